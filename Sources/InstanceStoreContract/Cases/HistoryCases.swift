import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum HistoryCases {
    static func event(_ kind: HistoryKind, _ fixture: ContractFixture, _ detail: [String: JSONValue] = [:])
        -> HistoryEvent
    {
        HistoryEvent(at: fixture.clock.now, kind: kind, detail: detail)
    }

    /// History is written with the create and each save, in their transactions: a refused save
    /// records nothing; it is read in order and by pages; it outlives an instance the completion
    /// action deletes; a delete or purge removes it; retention removes only what ended before
    /// its cut-off.
    @Sendable static func recordedWithSaves(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteAll)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(3600))
        let created = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                history: [event(.created, fixture, ["input": .object(["n": 1])]), event(.loaded, fixture)]))
        let id = created.id
        let secondState = ContractFixture.state(size: 3000, seed: 9)  // compressed, like the row's
        _ = try await store.save(
            SaveRequest(
                instanceID: id, owner: owner.id, expectedVersion: 1,
                snapshot: ContractFixture.snapshot(state: secondState),
                history: [event(.line, fixture, ["text": "hello"]), event(.persisted, fixture)]))
        // A refused save (a stale version) records nothing.
        await expectStoreError(.versionConflict) {
            try await store.save(
                SaveRequest(
                    instanceID: id, owner: owner.id, expectedVersion: 1, snapshot: ContractFixture.snapshot(),
                    history: [event(.line, fixture, ["text": "never"])]))
        }
        fixture.clock.advance(by: .seconds(1))
        let completion = try await store.save(
            SaveRequest(
                instanceID: id, owner: owner.id, expectedVersion: 2,
                snapshot: ContractFixture.snapshot(status: .completed), lockAction: .complete,
                history: [event(.completed, fixture, ["output": .object(["n": 2])])]))
        #expect(completion.deleted)
        // Its id is still found by prefix, through its history.
        #expect(try await store.historyInstanceIDs(idPrefix: String(id.lowercasedText.prefix(8)), limit: 2) == [id])
        #expect(try await store.historyInstanceIDs(idPrefix: "zz", limit: 2).isEmpty)

        let all = try await store.history(of: id, after: nil, limit: 100)
        #expect(all.map(\.event.kind) == [.created, .loaded, .line, .persisted, .completed])
        #expect(all.map(\.version) == [1, 1, 2, 2, 3])
        #expect(all.map(\.ordinal) == [0, 1, 0, 1, 0])
        #expect(all[0].event.detail["input"] == .object(["n": 1]))
        #expect(all[2].event.detail["text"] == "hello")
        #expect(all[4].event.at == fixture.clock.now)
        let page = try await store.history(of: id, after: all[1].position, limit: 2)
        #expect(page == Array(all[2...3]))
        #expect(try await store.history(of: id, after: all[4].position, limit: 10).isEmpty)
        // Each save's state is kept with its history: the revisions, the final one included.
        #expect(try await store.revision(of: id, version: 1) == created.state)
        #expect(try await store.revision(of: id, version: 2) == secondState)
        #expect(try await store.revision(of: id, version: 3) == ContractFixture.snapshot(status: .completed).state)
        #expect(try await store.revision(of: id, version: 4) == nil)

        // Retention: the history ended at the completion; a cut-off before it keeps it.
        #expect(try await store.pruneHistory(endedBefore: all[4].event.at, limit: 10) == 0)
        #expect(try await store.history(of: id, after: nil, limit: 1).count == 1)

        // Another instance, still running: retention never touches it; a delete removes its history.
        let running = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                history: [event(.created, fixture)]))
        _ = try await store.save(
            SaveRequest(
                instanceID: running.id, owner: owner.id, expectedVersion: 1, snapshot: ContractFixture.snapshot(),
                lockAction: .unlock, history: [event(.unloaded, fixture)]))
        fixture.clock.advance(by: .seconds(3600))
        #expect(try await store.pruneHistory(endedBefore: fixture.clock.now, limit: 10) == 1)
        #expect(try await store.history(of: id, after: nil, limit: 10).isEmpty)
        #expect(try await store.history(of: running.id, after: nil, limit: 10).count == 2)
        try await store.deleteInstance(running.id)
        #expect(try await store.history(of: running.id, after: nil, limit: 10).isEmpty)
    }

    /// An instance the completion action deleted comes back from its history (a rewind): the
    /// row takes the version asked for and keeps its creation time, so its history goes on
    /// where it stopped; a second restore of a live row is refused; retention leaves the
    /// history of a restored instance alone until it ends again.
    @Sendable static func restoredFromHistory(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteAll)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(100_000))
        let created = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                history: [event(.created, fixture)]))
        let id = created.id
        fixture.clock.advance(by: .seconds(5))
        let completion = try await store.save(
            SaveRequest(
                instanceID: id, owner: owner.id, expectedVersion: 1,
                snapshot: ContractFixture.snapshot(status: .completed), lockAction: .complete,
                history: [event(.completed, fixture)]))
        #expect(completion.deleted)
        await expectStoreError(.instanceNotFound) { try await store.readInstance(id) }

        fixture.clock.advance(by: .seconds(5))
        let state = ContractFixture.state(size: 200, seed: 3)
        let restoring = CreateInstanceRequest(
            id: id, owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(state: state),
            history: [event(.rewound, fixture, ["to": 1, "from": 2])], version: 3)
        let restored = try await store.createInstance(restoring)
        #expect(restored.summary.version == 3 && restored.summary.createdAt == created.summary.createdAt)
        let read = try await store.readInstance(id)
        #expect(read.version == 3 && read.state == state)
        #expect(read.summary.createdAt == created.summary.createdAt, "the creation time keys the history")
        let history = try await store.history(of: id, after: nil, limit: 10)
        #expect(history.map(\.event.kind) == [.created, .completed, .rewound])
        #expect(history.map(\.version) == [1, 2, 3])
        #expect(try await store.revision(of: id, version: 3) == state)
        await expectStoreError(.invalidRequest) { try await store.createInstance(restoring) }

        // It ended once, long ago; it lives again, so retention keeps its history.
        fixture.clock.advance(by: .seconds(3600))
        #expect(try await store.pruneHistory(endedBefore: fixture.clock.now, limit: 10) == 0)
        #expect(try await store.history(of: id, after: nil, limit: 10).count == 3)
        // A save may move it onto another version of its definition (a recovery); a completion may not.
        let fixed = DefinitionIdentity(name: fixture.definition.name, version: "2.0", fingerprint: "beef")
        _ = try await store.save(
            SaveRequest(
                instanceID: id, owner: owner.id, expectedVersion: 3, snapshot: ContractFixture.snapshot(),
                definition: fixed))
        #expect(try await store.readInstance(id).summary.definition == fixed)
        await expectStoreError(.invalidRequest) {
            try await store.save(
                SaveRequest(
                    instanceID: id, owner: owner.id, expectedVersion: 4,
                    snapshot: ContractFixture.snapshot(status: .completed), lockAction: .complete, definition: fixed))
        }
        _ = try await store.save(
            SaveRequest(
                instanceID: id, owner: owner.id, expectedVersion: 4,
                snapshot: ContractFixture.snapshot(status: .completed), lockAction: .complete,
                history: [event(.completed, fixture)]))
        fixture.clock.advance(by: .seconds(3600))
        #expect(try await store.pruneHistory(endedBefore: fixture.clock.now, limit: 10) == 1)
        #expect(try await store.history(of: id, after: nil, limit: 10).isEmpty)
    }

    /// A run's activities, stored as one compact record, are read back one record each, in
    /// order and at its time, with their own positions; other records around them stay as they are.
    @Sendable static func activitiesAreReadOneByOne(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(3600))
        let trace: [(kind: HistoryKind, path: String)] = [
            (.activityStarted, "body.sequence"), (.activityStarted, "body.sequence[0].assign"),
            (.activityCompleted, "body.sequence[0].assign"), (.activityFaulted, "body.sequence[1].throw"),
            (.activityCanceled, "body.sequence[2].pick[1].trigger.delay"),
        ]
        let activities = try #require(HistoryEvent.activities(at: fixture.clock.now, trace))
        let created = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                history: [event(.created, fixture), activities, event(.line, fixture, ["text": "after"])]))
        let records = try await store.history(of: created.id, after: nil, limit: 100)
        #expect(records.map(\.event.kind) == [.created] + trace.map(\.kind) + [.line])
        #expect(records.dropFirst().prefix(5).map { $0.event.detail["path"] } == trace.map { .string($0.path) })
        #expect(records.map(\.ordinal) == Array(0..<7))
        #expect(records.allSatisfy { $0.event.at == fixture.clock.now })
        let page = try await store.history(of: created.id, after: records[2].position, limit: 2)
        #expect(page == Array(records[3...4]))
        #expect(HistoryEvent.activities(at: fixture.clock.now, []) == nil)
    }
}
