import Foundation
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastApplication

/// The application layer's pure parts: the operator's rules for applying commands without a
/// host, the continuation token, and the error mapping.
@Suite struct ApplicationUnitTests {
    static func record(suspended: Bool = false, bookmarks: Set<String> = ["approve"]) -> InstanceRecord {
        InstanceRecord(
            summary: InstanceSummary(
                id: UUID(), definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "f"), status: .idle,
                isSuspended: suspended, version: 3, lock: nil, nextTimerAt: Date(timeIntervalSince1970: 100),
                fault: nil,
                createdAt: Date(), updatedAt: Date()),
            state: Data("not a state".utf8), stateEncoding: .none, keys: [], bookmarks: bookmarks,
            promotedProperties: [:])
    }

    static func entry(_ id: Int64, _ command: InboxEntry.Command) -> InboxEntry {
        InboxEntry(id: id, instanceID: UUID(), command: command, enqueuedAt: Date())
    }

    @Test func suspendAndUnsuspendApplyInOrder() {
        var change = OperatorChange(record: Self.record())
        change.apply([Self.entry(1, .suspend), Self.entry(2, .unsuspend), Self.entry(3, .suspend)], now: Date())
        #expect(change.applied == [1, 2, 3])
        #expect(change.snapshot.isSuspended)
        #expect(change.history.map(\.kind) == [.suspended, .unsuspended, .suspended])
        #expect(change.snapshot.nextTimerAt == Date(timeIntervalSince1970: 100), "suspending keeps the timer")
    }

    @Test func aMessageItsReceiveTakesHoldsBackLaterSuspendsButNotAnEnd() {
        var change = OperatorChange(record: Self.record())
        let approve = InboxEntry.Command.message(operation: "approve", body: Data("{}".utf8))
        change.apply(
            [Self.entry(1, approve), Self.entry(2, .suspend), Self.entry(3, .terminate(reason: "stop"))], now: Date())
        #expect(change.applied == [3])
        #expect(change.snapshot.status == .terminated)
        #expect(change.snapshot.bookmarks.isEmpty && change.snapshot.nextTimerAt == nil)
        #expect(change.snapshot.state == Data("not a state".utf8), "undecodable bytes are kept as they are")
    }

    @Test func aMessageNoReceiveTakesIsSkipped() {
        var change = OperatorChange(record: Self.record(bookmarks: ["submit"]))
        let approve = InboxEntry.Command.message(operation: "approve", body: Data("{}".utf8))
        change.apply([Self.entry(1, approve), Self.entry(2, .suspend)], now: Date())
        #expect(change.applied == [2])
        // While suspended, even a message its Receive takes waits; unsuspend then applies.
        var suspended = OperatorChange(record: Self.record(suspended: true))
        suspended.apply(
            [
                Self.entry(1, .message(operation: "approve", body: Data())), Self.entry(2, .unsuspend),
            ], now: Date())
        #expect(suspended.applied == [2])
        #expect(!suspended.snapshot.isSuspended)
    }

    @Test func continuationTokensRoundTripAndBadOnesAreRefused() throws {
        let summary = Self.record().summary
        let token = InstancePage.token(after: summary)
        let cursor = try InstancePage.cursor(from: token)
        #expect(cursor.id == summary.id)
        #expect(abs(cursor.updatedAt.timeIntervalSince(summary.updatedAt)) < 0.001)
        #expect(throws: ApplicationError.self) { try InstancePage.cursor(from: "bogus") }
    }

    @Test func errorsMapToOneCodeAndStatus() {
        let locked = ApplicationError(InstanceStoreError(.instanceLocked, "locked"))
        #expect(locked.code == .instanceLocked && locked.httpStatus == 409)
        let missing = ApplicationError(InstanceStoreError(.instanceNotFound, "gone"))
        #expect(missing.code == .instanceNotFound && missing.httpStatus == 404)
        #expect(ApplicationError(.timeout, "slow").httpStatus == 504)
        #expect(ApplicationError(WorkflowError(.invalidJSON, "bad")).httpStatus == 400)
    }

    @Test func aFinishedViewInventsNothing() throws {
        let definition = try WorkflowDefinition(name: "d", version: "1", variables: ["x": 1]) { Assign("x", "2") }
        var instance = try WorkflowInstance(definition: definition, instanceID: UUID().uuidString)
        _ = instance.run(now: Instant(millisecondsSinceEpoch: 0))
        let view = InstanceView(deleted: instance.state)
        #expect(view.deleted && view.status == .completed)
        #expect(view.version == nil && view.createdAt == nil && view.updatedAt == nil)
        #expect(view.variables?["x"] == 2)
    }
}

extension ApplicationUnitTests {
    /// A message nested past the engine's limits is refused before anything is stored (a host
    /// would only keep it as poison).
    @Test func aMessageNestedTooDeepIsRefusedBeforeItIsStored() throws {
        var body: JSONValue = 1
        for _ in 0..<WorkflowLimits.maxValueDepth { body = [body] }
        try WorkflowService.checkBody(body, for: "approve")
        #expect {
            try WorkflowService.checkBody([body], for: "approve")
        } throws: { error in
            let error = error as? ApplicationError
            return error?.code == .invalidInput && error?.message.contains("nothing was stored") == true
        }
    }
}
