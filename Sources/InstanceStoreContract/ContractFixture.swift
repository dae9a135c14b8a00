import Foundation
import SteadfastCore
import SteadfastStore

/// One case's database, clock and helpers.
struct ContractFixture: Sendable {
    let database: any ContractDatabase
    let clock = TestClock()
    let definition = DefinitionIdentity(name: "order", version: "1.0", fingerprint: "f00d")

    func options(
        encoding: StateEncodingOptions = StateEncodingOptions(),
        maxStateSize: Int = InstanceStoreOptions.defaultMaxStateSize,
        quarantineAfter: Int = InstanceStoreOptions.defaultQuarantineAfter
    ) -> InstanceStoreOptions {
        InstanceStoreOptions(
            encoding: encoding, clock: clock.storeClock, maxStateSize: maxStateSize, quarantineAfter: quarantineAfter)
    }

    /// Opens the store and records its completion action.
    func openStore(
        encoding: StateEncodingOptions = StateEncodingOptions(),
        completionAction: InstanceCompletionAction = .deleteAll,
        maxStateSize: Int = InstanceStoreOptions.defaultMaxStateSize,
        quarantineAfter: Int = InstanceStoreOptions.defaultQuarantineAfter
    ) async throws -> any InstanceStore {
        let store = try await database.openStore(
            options: options(encoding: encoding, maxStateSize: maxStateSize, quarantineAfter: quarantineAfter))
        try await store.setCompletionAction(completionAction)
        return store
    }

    /// Bytes that exercise every byte value, zeros included.
    static func state(size: Int, seed: UInt8 = 7) -> Data {
        Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) ^ UInt8(truncatingIfNeeded: $0 >> 8) })
    }

    static func snapshot(
        state: Data = state(size: 64),
        status: InstanceStatus = .idle,
        isSuspended: Bool = false,
        nextTimerAt: Date? = nil,
        keys: Set<InstanceKey> = [],
        bookmarks: Set<String> = [],
        properties: [String: String] = [:]
    ) -> InstanceSnapshot {
        InstanceSnapshot(
            state: state,
            status: status,
            isSuspended: isSuspended,
            nextTimerAt: nextTimerAt,
            keys: keys,
            bookmarks: bookmarks,
            promotedProperties: properties
        )
    }

    /// Creates an instance locked to `owner`.
    func create(
        in store: any InstanceStore,
        owner: LockOwner,
        snapshot: InstanceSnapshot = snapshot(),
        definition: DefinitionIdentity? = nil
    ) async throws -> InstanceRecord {
        try await store.createInstance(
            CreateInstanceRequest(owner: owner.id, definition: definition ?? self.definition, snapshot: snapshot)
        )
    }

    /// Creates an instance and saves it unlocked (as a host does when it unloads it).
    @discardableResult
    func createUnlocked(
        in store: any InstanceStore,
        owner: LockOwner,
        snapshot: InstanceSnapshot = snapshot()
    ) async throws -> UUID {
        let record = try await create(in: store, owner: owner, snapshot: snapshot)
        _ = try await store.save(
            SaveRequest(
                instanceID: record.id,
                owner: owner.id,
                expectedVersion: record.version,
                snapshot: snapshot,
                lockAction: .unlock
            )
        )
        return record.id
    }
}
