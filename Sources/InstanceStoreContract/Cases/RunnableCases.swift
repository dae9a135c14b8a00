import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum RunnableCases {
    @Sendable static func runnableInstances(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(600))
        let now = fixture.clock.now
        let past = now.addingTimeInterval(-1)
        let future = now.addingTimeInterval(3600)

        let dueTimer = try await fixture.createUnlocked(
            in: store,
            owner: creator,
            snapshot: ContractFixture.snapshot(nextTimerAt: past)
        )
        let dueNow = try await fixture.createUnlocked(
            in: store,
            owner: creator,
            snapshot: ContractFixture.snapshot(nextTimerAt: now)
        )
        let withMessage = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(bookmarks: ["approve"]))
        _ = try await store.enqueueMessage(for: withMessage, operation: "approve", body: Data("yes".utf8))
        // A control command makes even a suspended instance runnable: it must be applied.
        let suspendedToResume = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(isSuspended: true))
        _ = try await store.enqueue(.unsuspend, for: suspendedToResume, clientID: nil)
        // A message no open Receive takes waits without making its instance runnable.
        let early = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(bookmarks: ["submit"]))
        _ = try await store.enqueueMessage(for: early, operation: "approve", body: Data())
        // A due timer of a definition the host does not host (another fingerprint) is left alone.
        let otherDefinition = try await fixture.create(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: past),
            definition: DefinitionIdentity(name: "order", version: "1.0", fingerprint: "edited"))
        _ = try await store.save(
            SaveRequest(
                instanceID: otherDefinition.id, owner: creator.id, expectedVersion: 1,
                snapshot: ContractFixture.snapshot(nextTimerAt: past), lockAction: .unlock))
        // Saved while running (at a persist point), then its host died: it has work to do now.
        let interrupted = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(status: .running))
        // Not runnable: future timer, suspended, no timer and no message, finished, locked by a live owner.
        try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: future))
        try await fixture.createUnlocked(
            in: store,
            owner: creator,
            snapshot: ContractFixture.snapshot(isSuspended: true, nextTimerAt: past)
        )
        try await fixture.createUnlocked(in: store, owner: creator)
        let suspendedWithMessage = try await fixture.createUnlocked(
            in: store,
            owner: creator,
            snapshot: ContractFixture.snapshot(isSuspended: true, bookmarks: ["approve"])
        )
        _ = try await store.enqueueMessage(for: suspendedWithMessage, operation: "approve", body: Data())
        let lockedDue = try await fixture.create(
            in: store,
            owner: creator,
            snapshot: ContractFixture.snapshot(nextTimerAt: past)
        )
        let finishedStore = try await fixture.openStore(completionAction: .deleteNothing)
        let finished = try await fixture.create(in: finishedStore, owner: creator)
        _ = try await finishedStore.save(
            SaveRequest(
                instanceID: finished.id,
                owner: creator.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(status: .completed, nextTimerAt: past),
                lockAction: .complete
            )
        )

        let host = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        var picked: Set<UUID> = []
        while let loaded = try await store.tryLoadRunnableInstances(
            owner: host.id, limit: 1, definitions: [fixture.definition]
        ).loaded.first {
            #expect(loaded.record.summary.lock?.ownerID == host.id)
            #expect(picked.insert(loaded.id).inserted, "picked \(loaded.id) twice")
            if loaded.id == withMessage {
                #expect(loaded.inbox.map(\.command.operation) == ["approve"])
            }
        }
        #expect(picked == [dueTimer, dueNow, withMessage, interrupted, suspendedToResume])
        #expect(!picked.contains(lockedDue.id) && !picked.contains(early))
        // A host of the definition's name marks the instance of the edited content blocked (and
        // only it), without locking it or bumping its version.
        try await store.markBlockedInstances(hosting: [fixture.definition])
        let blocked = try await store.listInstances(InstanceQuery(blocked: true))
        #expect(blocked.map(\.id) == [otherDefinition.id])
        #expect(blocked.first?.blockedReason?.contains("fingerprint edited") == true)
        #expect(blocked.first?.version == 2 && blocked.first?.lock == nil)

        // When the owners' locks expire (creator: 600 s, host-b: 60 s), their due instances are
        // runnable again for another host.
        fixture.clock.advance(by: .seconds(601))
        let host2 = try await store.createLockOwner(hostID: "host-c", lockDuration: .seconds(60))
        var recovered: Set<UUID> = []
        while let loaded = try await store.tryLoadRunnableInstance(owner: host2.id) {
            #expect(recovered.insert(loaded.id).inserted, "picked \(loaded.id) twice")
        }
        // Without a definition filter, the instance of the edited definition is runnable too.
        #expect(
            recovered == [
                dueTimer, dueNow, withMessage, interrupted, lockedDue.id, suspendedToResume, otherDefinition.id,
            ])
        await expectStoreError(.ownerExpired) { try await store.tryLoadRunnableInstance(owner: host.id) }
    }

    /// A batch claims up to its limit, earliest due first, each instance once.
    @Sendable static func runnableInstancesInBatches(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(600))
        let now = fixture.clock.now
        var due: [(id: UUID, at: Date)] = []
        for offset in [7, 3, 9, 1, 5, 2, 8, 4, 10, 6] {
            let at = now.addingTimeInterval(-Double(offset))
            let id = try await fixture.createUnlocked(
                in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: at))
            due.append((id, at))
        }
        let earliestFirst = due.sorted { $0.at < $1.at }.map(\.id)
        let host = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        var claimed: [UUID] = []
        for expected in [4, 4, 2, 0] {
            let batch = try await store.tryLoadRunnableInstances(owner: host.id, limit: 4, definitions: nil).loaded
            #expect(batch.count == expected)
            #expect(batch.allSatisfy { $0.record.summary.lock?.ownerID == host.id })
            claimed += batch.map(\.id)
        }
        #expect(claimed == earliestFirst)
    }

    @Sendable static func nextTimerDueTime(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        #expect(try await store.nextTimerDueTime(definitions: nil) == nil)
        let now = fixture.clock.now
        try await fixture.createUnlocked(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(-5))
        )
        try await fixture.createUnlocked(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(30))
        )
        try await fixture.createUnlocked(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(20))
        )
        // Suspended and live-locked instances do not count.
        try await fixture.createUnlocked(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(isSuspended: true, nextTimerAt: now.addingTimeInterval(2))
        )
        _ = try await fixture.create(
            in: store,
            owner: owner,
            snapshot: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(3))
        )
        #expect(try await store.nextTimerDueTime(definitions: nil) == now.addingTimeInterval(20))
        fixture.clock.advance(by: .seconds(25))
        // The live-locked one's owner expired at +60 s, not yet.
        #expect(try await store.nextTimerDueTime(definitions: nil) == now.addingTimeInterval(30))
        fixture.clock.advance(by: .seconds(10))
        // Its timer is due now, but its owner still holds it: it becomes runnable when the
        // owner's lock expires (the host died), at +60 s.
        #expect(try await store.nextTimerDueTime(definitions: nil) == now.addingTimeInterval(60))
        try await store.deleteLockOwner(owner.id)
        #expect(try await store.nextTimerDueTime(definitions: nil) == nil)
    }
}
