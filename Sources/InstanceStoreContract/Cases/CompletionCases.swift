import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum CompletionCases {
    @Sendable static func deleteAll(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteAll)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let key = InstanceKey(name: "orderId", jsonValue: "42")
        let record = try await fixture.create(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(keys: [key], bookmarks: ["b"], properties: ["p": "1"])
        )
        _ = try await store.enqueueMessage(for: record.id, operation: "late", body: Data())

        await expectStoreError(.invalidRequest) {
            try await store.save(
                SaveRequest(
                    instanceID: record.id,
                    owner: owner.id,
                    expectedVersion: 1,
                    snapshot: ContractFixture.snapshot(status: .running, keys: [key]),
                    lockAction: .complete
                )
            )
        }
        // An entry that was never applied is not dropped silently: the finished instance is kept
        // with the entry rejected, and why.
        let kept = try await store.save(
            SaveRequest(
                instanceID: record.id,
                owner: owner.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(status: .completed, keys: [key]),
                lockAction: .complete
            )
        )
        #expect(!kept.deleted && kept.rejectedEntries == 1)
        let rejected = try await store.inbox(for: record.id, pendingOnly: false)
        #expect(rejected.map(\.state) == [.rejected])
        #expect(rejected.first?.reason?.contains("completed before this was applied") == true)
        #expect(try await store.readInstance(record.id).status == .completed)
        #expect(try await store.purgeInstances(PurgeFilter()) == 1)

        // A clean completion deletes everything; a fault or a termination is kept with its reason.
        let clean = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
        let result = try await store.save(
            SaveRequest(
                instanceID: clean.id, owner: owner.id, expectedVersion: 1,
                snapshot: ContractFixture.snapshot(status: .completed, keys: [key]), lockAction: .complete))
        #expect(result.deleted)
        await expectStoreError(.instanceNotFound) { try await store.readInstance(clean.id) }
        #expect(try await store.instanceID(forKey: key) == nil)
        #expect(try await store.inbox(for: clean.id, pendingOnly: false).isEmpty)
        #expect(try await store.listInstances(.all).isEmpty)
        for status in [InstanceStatus.faulted, .terminated] {
            let failing = try await fixture.create(in: store, owner: owner)
            let saved = try await store.save(
                SaveRequest(
                    instanceID: failing.id, owner: owner.id, expectedVersion: 1,
                    snapshot: InstanceSnapshot(state: Data(), status: status, fault: "why: \(status)"),
                    lockAction: .complete))
            #expect(!saved.deleted)
            #expect(try await store.readInstance(failing.id).summary.fault == "why: \(status)")
        }
        // The key is free for a new instance.
        let next = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
        #expect(try await store.instanceID(forKey: key) == next.id)
        // The completion action is the store's, shared by every connection.
        #expect(try await store.completionAction() == .deleteAll)
        try await store.setCompletionAction(.deleteNothing)
        #expect(try await store.completionAction() == .deleteNothing)
    }

    @Sendable static func deleteNothing(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteNothing)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let key = InstanceKey(name: "orderId", jsonValue: "42")
        let record = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
        let finalState = Data("done".utf8)
        let result = try await store.save(
            SaveRequest(
                instanceID: record.id,
                owner: owner.id,
                expectedVersion: 1,
                snapshot: InstanceSnapshot(
                    state: finalState, status: .faulted, keys: [key], fault: "boom: divide by zero"),
                lockAction: .complete
            )
        )
        #expect(result == SaveResult(version: 2, deleted: false))
        let kept = try await store.readInstance(record.id)
        #expect(kept.status == .faulted)
        #expect(kept.summary.fault == "boom: divide by zero")
        #expect(kept.summary.lock == nil)
        #expect(kept.state == finalState)
        // Its key stays reserved until the instance is purged (as in the classic store).
        await expectStoreError(.keyConflict) {
            try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
        }
        // A finished instance takes no messages and is never runnable.
        await expectStoreError(.instanceFinished) {
            try await store.enqueueMessage(for: record.id, operation: "approve", body: Data())
        }
        #expect(try await store.tryLoadRunnableInstance(owner: owner.id) == nil)
        #expect(try await store.purgeInstances(PurgeFilter()) == 1)
        await expectStoreError(.instanceNotFound) { try await store.readInstance(record.id) }
        _ = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
    }
}
