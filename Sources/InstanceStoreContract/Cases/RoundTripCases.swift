import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum RoundTripCases {
    @Sendable static func createLoadSave(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let state = ContractFixture.state(size: 10_000)
        let timer = fixture.clock.now.addingTimeInterval(3600)
        let key = InstanceKey(name: "orderId", jsonValue: "42")
        let created = try await fixture.create(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(
                state: state,
                status: .running,
                nextTimerAt: timer,
                keys: [key],
                bookmarks: ["approve"],
                properties: ["customer": "\"ACME\"", "total": "99.5"]
            )
        )
        #expect(created.version == 1)
        #expect(created.state == state)
        #expect(created.status == .running)
        #expect(created.summary.definition == fixture.definition)
        #expect(created.summary.lock?.ownerID == owner.id)
        #expect(created.summary.lock?.hostID == "host-a")
        #expect(created.summary.nextTimerAt == timer)
        #expect(created.keys == [key])
        #expect(created.bookmarks == ["approve"])
        #expect(created.promotedProperties == ["customer": "\"ACME\"", "total": "99.5"])
        #expect(created.summary.createdAt == fixture.clock.now)

        // Save keeping the lock, then save unlocking.
        fixture.clock.advance(by: .seconds(5))
        let state2 = ContractFixture.state(size: 20_000, seed: 3)
        let kept = try await store.save(
            SaveRequest(
                instanceID: created.id,
                owner: owner.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(state: state2, status: .idle, bookmarks: ["approve", "cancel"]),
                lockAction: .keepLock
            )
        )
        #expect(kept == SaveResult(version: 2, deleted: false))
        let afterKeep = try await store.readInstance(created.id)
        #expect(afterKeep.state == state2)
        #expect(afterKeep.version == 2)
        #expect(afterKeep.summary.lock?.ownerID == owner.id)
        #expect(afterKeep.summary.nextTimerAt == nil)
        #expect(afterKeep.keys.isEmpty)
        #expect(afterKeep.bookmarks == ["approve", "cancel"])
        #expect(afterKeep.promotedProperties.isEmpty)
        #expect(afterKeep.summary.updatedAt == fixture.clock.now)
        #expect(afterKeep.summary.createdAt == created.summary.createdAt)

        let empty = Data()
        let unlocked = try await store.save(
            SaveRequest(
                instanceID: created.id,
                owner: owner.id,
                expectedVersion: 2,
                snapshot: ContractFixture.snapshot(state: empty, status: .idle, isSuspended: true),
                lockAction: .unlock
            )
        )
        #expect(unlocked.version == 3)
        let afterUnlock = try await store.readInstance(created.id)
        #expect(afterUnlock.summary.lock == nil)
        #expect(afterUnlock.state == empty)
        #expect(afterUnlock.summary.isSuspended)

        // Another owner can now load it; a save by the first owner is refused.
        let other = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        let loaded = try await store.loadInstance(created.id, owner: other.id)
        #expect(loaded.version == 3)
        #expect(loaded.record.state == empty)
        #expect(loaded.inbox.isEmpty)
        await expectStoreError(.lockLost) {
            try await store.save(
                SaveRequest(
                    instanceID: created.id, owner: owner.id, expectedVersion: 3, snapshot: ContractFixture.snapshot())
            )
        }
        // Loading it again by its holder is allowed (e.g. after a host restart with the same owner).
        #expect(try await store.loadInstance(created.id, owner: other.id).version == 3)
        await expectStoreError(.instanceNotFound) { try await store.loadInstance(UUID(), owner: other.id) }
        await expectStoreError(.instanceNotFound) { try await store.readInstance(UUID()) }
        await expectStoreError(.invalidRequest) {
            try await store.createInstance(
                CreateInstanceRequest(
                    id: created.id, owner: other.id, definition: fixture.definition,
                    snapshot: ContractFixture.snapshot())
            )
        }
    }

    @Sendable static func loadByKey(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let key = InstanceKey(name: "orderId", jsonValue: "42")
        let id = try await fixture.createUnlocked(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(keys: [key, InstanceKey(name: "customer", jsonValue: "7")])
        )
        #expect(try await store.instanceID(forKey: key) == id)
        #expect(try await store.instanceID(forKey: InstanceKey(name: "orderId", jsonValue: "43")) == nil)
        let loaded = try await store.loadInstance(byKey: key, owner: owner.id)
        #expect(loaded.id == id)
        #expect(loaded.record.summary.lock?.ownerID == owner.id)
        let missing = InstanceKey(name: "orderId", jsonValue: "nope")
        let error = await expectStoreError(.keyNotFound) {
            try await store.loadInstance(byKey: missing, owner: owner.id)
        }
        #expect(error?.key == missing)
    }
}
