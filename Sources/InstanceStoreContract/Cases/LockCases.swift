import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum LockCases {
    @Sendable static func lockedInstance(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let hostA = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(30))
        let record = try await fixture.create(in: store, owner: hostA)
        let hostB = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(120))

        let error = await expectStoreError(.instanceLocked) { try await store.loadInstance(record.id, owner: hostB.id) }
        #expect(error?.lockHostID == "host-a")
        #expect(error?.lockOwnerID == hostA.id)
        #expect(error?.lockedUntil == hostA.lockExpiresAt)
        #expect(error?.instanceID == record.id)

        // Still locked just before expiry; free once host A's lock expires.
        fixture.clock.advance(by: .seconds(29))
        await expectStoreError(.instanceLocked) { try await store.loadInstance(record.id, owner: hostB.id) }
        fixture.clock.advance(by: .seconds(1))
        let loaded = try await store.loadInstance(record.id, owner: hostB.id)
        #expect(loaded.record.summary.lock?.ownerID == hostB.id)
        #expect(loaded.record.summary.lock?.hostID == "host-b")

        // An expired owner cannot load either.
        await expectStoreError(.ownerExpired) { try await store.loadInstance(record.id, owner: hostA.id) }

        // Releasing the lock without saving: only its holder can; nothing else changes but the
        // abandon entry it settles.
        let abandon = try await store.enqueue(.abandon, for: record.id, clientID: nil)
        #expect(try await store.releaseLock(of: record.id, owner: hostA.id, applied: [abandon.id]) == false)
        #expect(try await store.inboxEntry(abandon.id)?.state == .pending)
        #expect(try await store.releaseLock(of: record.id, owner: hostB.id, applied: [abandon.id]))
        #expect(try await store.inboxEntry(abandon.id)?.state == .applied)
        let released = try await store.readInstance(record.id)
        #expect(released.summary.lock == nil)
        #expect(released.version == loaded.version && released.state == loaded.record.state)
    }

    @Sendable static func saveAfterLosingLock(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let hostA = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(30))
        let original = ContractFixture.state(size: 300, seed: 1)
        let record = try await fixture.create(
            in: store,
            owner: hostA,
            snapshot: ContractFixture.snapshot(state: original, keys: [InstanceKey(name: "k", jsonValue: "1")])
        )

        // Host A stalls; its lock expires. Its save now fails and changes nothing.
        fixture.clock.advance(by: .seconds(31))
        let changed = ContractFixture.snapshot(state: ContractFixture.state(size: 10, seed: 9), status: .running)
        await expectStoreError(.ownerExpired) {
            try await store.save(
                SaveRequest(instanceID: record.id, owner: hostA.id, expectedVersion: 1, snapshot: changed))
        }

        // Host B takes the instance over and saves it.
        let hostB = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        let loaded = try await store.loadInstance(record.id, owner: hostB.id)
        #expect(loaded.record.state == original)
        let saved = try await store.save(
            SaveRequest(
                instanceID: record.id,
                owner: hostB.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(state: original, keys: [InstanceKey(name: "k", jsonValue: "1")])
            )
        )
        #expect(saved.version == 2)

        // Host A comes back with a new owner but its stale in-memory copy: refused.
        let hostA2 = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let error = await expectStoreError(.lockLost) {
            try await store.save(
                SaveRequest(instanceID: record.id, owner: hostA2.id, expectedVersion: 1, snapshot: changed))
        }
        #expect(error?.instanceID == record.id)
        let after = try await store.readInstance(record.id)
        #expect(after.version == 2)
        #expect(after.state == original)
        #expect(after.status == .idle)
        #expect(after.keys == [InstanceKey(name: "k", jsonValue: "1")])
        #expect(after.summary.lock?.ownerID == hostB.id)
    }

    @Sendable static func staleVersion(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let record = try await fixture.create(in: store, owner: owner)
        let state2 = ContractFixture.state(size: 99, seed: 2)
        _ = try await store.save(
            SaveRequest(
                instanceID: record.id,
                owner: owner.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(state: state2, keys: [InstanceKey(name: "a", jsonValue: "1")])
            )
        )
        let stale = ContractFixture.snapshot(
            state: Data([1, 2, 3]),
            status: .running,
            keys: [InstanceKey(name: "b", jsonValue: "2")],
            bookmarks: ["x"]
        )
        await expectStoreError(.versionConflict) {
            try await store.save(
                SaveRequest(
                    instanceID: record.id, owner: owner.id, expectedVersion: 1, snapshot: stale, lockAction: .unlock)
            )
        }
        let after = try await store.readInstance(record.id)
        #expect(after.version == 2)
        #expect(after.state == state2)
        #expect(after.keys == [InstanceKey(name: "a", jsonValue: "1")])
        #expect(after.bookmarks.isEmpty)
        #expect(after.summary.lock?.ownerID == owner.id)
        #expect(try await store.instanceID(forKey: InstanceKey(name: "b", jsonValue: "2")) == nil)
    }
}
