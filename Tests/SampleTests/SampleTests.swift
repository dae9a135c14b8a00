import Foundation
import InstanceStoreContract
import SteadfastApplication
import SteadfastCore
import SteadfastStore
import SteadfastTesting
import Testing

/// The samples, each run from start to finish with the time-skipping test kit: hours and days
/// of timers pass in milliseconds. On each store (PostgreSQL when the test server is
/// configured, and always under CI).
@Suite struct SampleTests {
    static let samples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Samples").standardized.path

    /// An environment hosting every sample, on a fresh store of `backend`.
    static func environment(_ backend: TestBackend) async throws -> (WorkflowTestEnvironment, @Sendable () -> Void) {
        switch backend {
        case .sqlite:
            return (try await WorkflowTestEnvironment(definitionFiles: [samples]), {})
        case .postgres:
            let (url, remove) = try backend.freshStore()
            return (try await WorkflowTestEnvironment(definitionFiles: [samples], store: .url(url)), remove)
        }
    }

    /// Nobody approves: after 72 hours the order expires. Its history has every kind of record
    /// the run makes, in order.
    @Test(arguments: TestBackend.available) func anOrderExpiresAfter72Hours(_ backend: TestBackend) async throws {
        let (env, remove) = try await Self.environment(backend)
        defer { remove() }
        let id = try await env.send("submit", ["orderId": 7, "item": "lamp"])
        try await env.expect(id, status: .idle, variables: ["orderId": 7], waitingFor: ["approve"])

        try await env.advance(by: .seconds(71 * 3600))
        try await env.expect(id, status: .idle, waitingFor: ["approve"])
        try await env.advance(by: .seconds(3600))
        try await env.expect(id, status: .completed, variables: ["status": "expired"])
        #expect(env.lines(of: id) == ["order 7 is expired"])
        try await env.expectHistory(
            id,
            contains: [
                "created", "activity-started", "bookmark-opened", "bookmark-resumed", "activity-completed", "persisted",
                "timer-set",
                "unloaded", "loaded", "timer-fired", "activity-canceled", "line", "completed",
            ])
        let fired = try #require(try await env.history(of: id).first { $0.kind == "timer-fired" })
        #expect(fired.detail["due"] == .string(fired.at), "the timer fired at its due time: \(fired)")
        await env.close()
    }

    /// Approved within the 72 hours; suspended meanwhile, the approval waits for the unsuspend.
    @Test(arguments: TestBackend.available) func anOrderIsApproved(_ backend: TestBackend) async throws {
        let (env, remove) = try await Self.environment(backend)
        defer { remove() }
        let id = try await env.send("submit", ["orderId": 8])
        try await env.control(id, .suspend)
        try await env.send("approve", ["orderId": 8])
        try await env.expect(id, status: .idle, variables: ["status": "new"])
        try await env.advance(by: .seconds(3600))
        try await env.control(id, .unsuspend)
        try await env.expect(id, status: .completed, variables: ["status": "approved"])
        #expect(env.lines(of: id) == ["order 8 is approved"])
        try await env.expectHistory(
            id, contains: ["created", "suspended", "unsuspended", "bookmark-resumed", "completed"])
        // Operators end the others: terminated and canceled are recorded with their reasons.
        let terminated = try await env.send("submit", ["orderId": 9])
        try await env.control(terminated, .terminate(reason: "duplicate order"))
        try await env.expect(terminated, status: .terminated)
        try await env.expectHistory(terminated, contains: ["created", "terminated"])
        let canceled = try await env.send("submit", ["orderId": 10])
        try await env.control(canceled, .cancel(reason: "customer withdrew"))
        try await env.expect(canceled, status: .canceled)
        let last = try await env.history(of: canceled).last
        #expect(
            last?.kind == "canceled" && last?.detail["reason"] == "customer withdrew", "\(String(describing: last))")
        await env.close()
    }

    /// A reminder every 2 seconds, three times, then the loop ends; each fires at its due time.
    @Test(arguments: TestBackend.available) func theReminderLoopSendsThreeReminders(_ backend: TestBackend) async throws
    {
        let (env, remove) = try await Self.environment(backend)
        defer { remove() }
        let id = try await env.start("reminder-loop")
        try await env.advance(by: .seconds(5))
        #expect(env.lines(of: id) == ["reminder 1 for task T-1", "reminder 2 for task T-1"])
        try await env.advance(by: .seconds(1))
        try await env.expect(id, status: .completed, variables: ["reminders": 3])
        #expect(env.lines(of: id).last == "task T-1 finished after 3 reminders")
        let fired = try await env.history(of: id).filter { $0.kind == "timer-fired" }
        #expect(fired.count == 3)

        // Done after one reminder: the loop ends at the message.
        let other = try await env.start("reminder-loop", input: ["taskId": "T-2"])
        try await env.advance(by: .seconds(3))
        try await env.send("complete", ["taskId": "T-2"])
        try await env.expect(other, status: .completed, variables: ["reminders": 1, "done": true])
        await env.close()
    }

    /// Legal approves; finance never answers and its day runs out: the document is rejected.
    @Test(arguments: TestBackend.available) func aDocumentReviewTimesOut(_ backend: TestBackend) async throws {
        let (env, remove) = try await Self.environment(backend)
        defer { remove() }
        let id = try await env.send("submit", ["documentId": "D-1"])
        try await env.expect(id, status: .idle, waitingFor: ["legal-review", "finance-review"])
        try await env.send("legal-review", ["documentId": "D-1", "approved": true])
        try await env.expect(id, status: .idle, waitingFor: ["finance-review"])
        try await env.advance(by: .seconds(86_400))
        try await env.expect(
            id, status: .completed, variables: ["outcome": "rejected", "finance": nil],
            lines: ["document D-1 sent to legal and finance", "document D-1 is rejected"])
        await env.close()
    }

    /// The batch saves after each step; records that are no number fault it at the transform,
    /// with the fault recorded.
    @Test(arguments: TestBackend.available) func theNightlyBatchRunsAndFaults(_ backend: TestBackend) async throws {
        let (env, remove) = try await Self.environment(backend)
        defer { remove() }
        let id = try await env.start("nightly-batch")
        try await env.expect(id, status: .completed, variables: ["loaded": 1200])
        #expect(try await env.history(of: id).filter { $0.kind == "persisted" }.count >= 3)
        let bad = try await env.start("nightly-batch", input: ["records": "many"])
        try await env.expect(bad, status: .faulted)
        try await env.expectHistory(bad, contains: ["created", "line", "persisted", "activity-faulted", "faulted"])
        await env.close()
    }

    /// A reminder every 30 days, without waiting for them (the virtual clock; the host's lock
    /// lasts in virtual time too); the kit's expectations name what differs.
    @Test func thirtyDaysBetweenRemindersTakeNoTime() async throws {
        let monthly = try WorkflowDefinition(
            name: "monthly", version: "1", variables: ["sent": 0]
        ) {
            While("sent < 3") {
                Delay("P30D")
                Assign("sent", "sent + 1")
                WriteLine("'reminder ' + sent")
            }
        }
        let env = try await WorkflowTestEnvironment(definitions: [monthly], store: .temporaryFile)
        let id = try await env.start("monthly")
        try await env.advance(by: .seconds(89 * 86_400))
        try await env.expect(id, status: .idle, variables: ["sent": 2])
        try await env.advance(by: .seconds(86_400))
        try await env.expect(id, status: .completed, variables: ["sent": 3])
        #expect(env.lines(of: id) == ["reminder 1", "reminder 2", "reminder 3"])
        // Ten virtual years: the host's lock is renewed by a restart on the way.
        let late = try await env.start("monthly")
        try await env.advance(by: .seconds(10 * 365 * 86_400))
        try await env.expect(late, status: .completed)

        do {
            try await env.expect(id, status: .idle, variables: ["sent": 1])
            Issue.record("a wrong expectation held")
        } catch let failure as WorkflowExpectationFailure {
            #expect(failure.description.contains("status is completed, not idle"), "\(failure)")
            #expect(failure.description.contains("'sent' is 3, not 1"), "\(failure)")
        }
        do {
            try await env.expectHistory(id, contains: ["created", "timer-fired", "faulted"])
            Issue.record("a history without a fault held")
        } catch let failure as WorkflowExpectationFailure {
            #expect(
                failure.description.contains("no 'faulted'") && failure.description.contains("completed"), "\(failure)")
        }
        await env.close()
    }

    /// An async custom activity runs to its end (in real time) before the kit's calls return.
    @Test func anAsyncActivityRunsToItsEnd() async throws {
        let priced = try WorkflowDefinition(name: "priced", version: "1", variables: ["qty": 4, "total": 0]) {
            InvokeAsync("price", input: "qty", assignTo: "total") { input in
                try await Task.sleep(for: .milliseconds(20))
                guard case .number(let qty) = input else { return 0 }
                return .number(qty * 3)
            }
            Delay("PT1H")
            WriteLine("'total ' + total")
        }
        let env = try await WorkflowTestEnvironment(definitions: [priced])
        let id = try await env.start("priced")
        try await env.expect(id, status: .idle, variables: ["total": 12])
        try await env.advance(by: .seconds(3600))
        try await env.expect(id, status: .completed)
        #expect(env.lines(of: id) == ["total 12"])
        await env.close()
    }
}
