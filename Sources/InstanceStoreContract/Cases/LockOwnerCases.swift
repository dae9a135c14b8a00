import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum LockOwnerCases {
    @Sendable static func lifecycle(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let start = fixture.clock.now
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        #expect(owner.hostID == "host-a")
        #expect(owner.lockDuration == .seconds(60))
        #expect(owner.lockExpiresAt == start.addingTimeInterval(60))

        // Renewal extends the lock to now + duration.
        fixture.clock.advance(by: .seconds(45))
        let renewed = try await store.renewLockOwner(owner.id)
        #expect(renewed.id == owner.id)
        #expect(renewed.lockExpiresAt == start.addingTimeInterval(105))

        // The owner's instances stay locked to it while it is live.
        let record = try await fixture.create(in: store, owner: owner)
        let other = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        await expectStoreError(.instanceLocked) { try await store.loadInstance(record.id, owner: other.id) }

        // Deleting the owner releases its locks.
        try await store.deleteLockOwner(owner.id)
        #expect(try await store.readInstance(record.id).summary.lock == nil)
        let loaded = try await store.loadInstance(record.id, owner: other.id)
        #expect(loaded.record.summary.lock?.ownerID == other.id)
        await expectStoreError(.ownerNotFound) { try await store.renewLockOwner(owner.id) }
        await expectStoreError(.ownerNotFound) {
            try await store.createInstance(
                CreateInstanceRequest(
                    owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot())
            )
        }
        // Deleting again is harmless.
        try await store.deleteLockOwner(owner.id)

        // An expired owner cannot renew: other hosts may already hold its instances.
        fixture.clock.advance(by: .seconds(61))
        let error = await expectStoreError(.ownerExpired) { try await store.renewLockOwner(other.id) }
        #expect(error?.message.contains("Create a new lock owner") == true)
        await expectStoreError(.invalidRequest) { try await store.createLockOwner(hostID: "x", lockDuration: .zero) }
    }
}
