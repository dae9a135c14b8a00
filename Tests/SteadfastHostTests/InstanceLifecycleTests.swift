import Foundation
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastHost

/// The per-instance state machine, driven by events with explicit times: no store, no sleeping.
@Suite struct InstanceLifecycleTests {
    static let options = HostOptions(hostID: "t", timeToPersist: .seconds(5), timeToUnload: .seconds(60))

    /// Submit (creates), persist, then wait for approve or a 1-hour timer.
    static let approval = try! WorkflowDefinition(
        name: "approval", version: "1", variables: ["orderId": nil, "status": "new"], keys: ["orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true)
        Persist()
        Pick {
            Trigger(Receive("approve", correlateOn: "orderId")) { Assign("status", "'approved'") }
            Trigger(Delay("PT1H")) { Assign("status", "'expired'") }
        }
        WriteLine("'order ' + orderId + ' is ' + status")
    }

    static let start = Instant(millisecondsSinceEpoch: 1_000_000)

    static func machine(options: HostOptions = options) throws -> InstanceLifecycle {
        InstanceLifecycle(
            instance: try WorkflowInstance(definition: approval, instanceID: "i-1"), version: 1, suspended: false,
            options: options)
    }

    static func entry(_ id: Int64, _ command: InboxEntry.Command) -> InboxEntry {
        InboxEntry(id: id, instanceID: UUID(), command: command, enqueuedAt: Date())
    }

    static func message(_ id: Int64, _ operation: String, _ body: String) -> InboxEntry {
        entry(id, .message(operation: operation, body: Data(body.utf8)))
    }

    /// Feeds `.saved` answers to saves until the machine asks for something else.
    static func answeringSaves(
        _ machine: inout InstanceLifecycle, _ first: [InstanceLifecycle.Action], now: Instant
    ) -> [InstanceLifecycle.Action] {
        var all = first
        var version: Int64 = machine.version
        while case .save? = all.last {
            version += 1
            all += machine.handle(.saved(version: version), now: now)
        }
        return all
    }

    @Test func aMessageIsSavedAtThePersistPointThenTheInstanceIdlesWithItsTimerAndPolicy() throws {
        var machine = try Self.machine()
        let first = machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start)
        // Run, apply submit, reach the persist point: save it (settling entry 1) before anything else.
        #expect(first.last == .save(.keepLock))
        #expect(machine.applied == [1])
        let after = machine.handle(.saved(version: 2), now: Self.start)
        #expect(machine.applied.isEmpty && machine.version == 2)
        let due = Self.start.adding(milliseconds: 3_600_000)
        #expect(
            after == [
                .persisted(version: 2), .cancelTimers, .armTimer(due),
                .armIdlePolicy(persistAfter: .seconds(5), unloadAfter: .seconds(60), generation: 2),
            ])
        // A stale idle deadline (an older generation) does nothing; the current one unloads.
        #expect(machine.handle(.idleTimeout(persist: false, generation: 1), now: Self.start).isEmpty)
        #expect(machine.handle(.idleTimeout(persist: false, generation: 2), now: Self.start) == [.save(.unlock)])
        #expect(
            machine.handle(.saved(version: 3), now: Self.start) == [
                .persisted(version: 3), .unloaded(nextTimer: due), .drop,
            ])
        #expect(machine.dropped)
    }

    @Test func theTimerFiresAtItsTimeAndTheInstanceCompletes() throws {
        var machine = try Self.machine()
        _ = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        let later = Self.start.adding(milliseconds: 3_600_000)
        let actions = Self.answeringSaves(&machine, machine.handle(.timerFired, now: later), now: later)
        #expect(actions.contains(.line("order 7 is expired")))
        #expect(actions.contains(.save(.complete)) && actions.last == .drop)
        #expect(actions.contains { if case .finished(let state) = $0 { state.status == .completed } else { false } })
    }

    @Test func suspendUnloadsAMessageWaitsAndUnsuspendAppliesItInOrder() throws {
        var machine = try Self.machine()
        _ = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        // Suspend, then approve, in one wake: suspend applies, the message waits, and the
        // instance is saved (settling the suspend) and unloaded.
        let suspended = machine.handle(
            .wake([Self.entry(2, .suspend), Self.message(3, "approve", #"{"orderId": 7}"#)]), now: Self.start)
        #expect(suspended.last == .save(.unlock))
        #expect(machine.suspended && machine.applied == [2])
        #expect(try machine.snapshot().isSuspended)
        #expect(!suspended.contains(.line("order 7 is approved")))
        // A timer event while suspended does nothing.
        #expect(machine.handle(.timerFired, now: Self.start.adding(milliseconds: 7_200_000)).isEmpty)

        // Loaded again with the waiting message and an unsuspend: applied in order.
        var again = InstanceLifecycle(
            instance: machine.instance, version: 4, suspended: true, options: Self.options)
        let resumed = Self.answeringSaves(
            &again,
            again.handle(
                .wake([Self.message(3, "approve", #"{"orderId": 7}"#), Self.entry(4, .unsuspend)]), now: Self.start),
            now: Self.start)
        #expect(resumed.contains(.line("order 7 is approved")))
        #expect(resumed.contains(.save(.complete)))
    }

    @Test func aPoisonMessageIsNeverAppliedAndTerminateEndsTheInstance() throws {
        var machine = try Self.machine()
        _ = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        // Poison: a body that is not JSON, and one nested past the limits. Neither is applied
        // (nor delivered as something else): both are kept, marked poison, with the reason.
        let deep = String(repeating: "[", count: 101) + String(repeating: "]", count: 101)
        let actions = machine.handle(
            .wake([
                Self.message(2, "approve", "not json"), Self.message(3, "approve", deep),
                Self.entry(4, .terminate(reason: "fraud")),
            ]),
            now: Self.start)
        #expect(machine.poisoned.keys.sorted() == [2, 3] && machine.applied == [4] && machine.rejected.isEmpty)
        #expect(machine.poisoned[3]?.contains("nests arrays and objects 101 levels deep") == true)
        #expect(
            actions.contains { if case .rejected(2, let reason) = $0 { reason.hasPrefix("poison: ") } else { false } })
        #expect(actions.last == .save(.complete))
        #expect(try machine.snapshot().status == .terminated)
    }

    @Test func shutdownSavesAndUnlocksAndAFailedSaveDrops() throws {
        var machine = try Self.machine()
        _ = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        #expect(machine.handle(.shutdown, now: Self.start) == [.cancelTimers, .save(.unlock)])
        #expect(machine.handle(.saveFailed, now: Self.start) == [.cancelTimers, .drop])
        #expect(machine.dropped)
        #expect(machine.handle(.timerFired, now: Self.start).isEmpty, "a dropped instance decides nothing")
    }

    @Test func withTimeToUnloadZeroAnIdleInstanceIsSavedAndUnloadedAtOnce() throws {
        var machine = try Self.machine(options: HostOptions(hostID: "t", timeToUnload: .zero))
        let actions = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        #expect(actions.suffix(2) == [.unloaded(nextTimer: Self.start.adding(milliseconds: 3_600_000)), .drop])
        #expect(actions.filter { if case .save = $0 { true } else { false } } == [.save(.keepLock), .save(.unlock)])
    }

    /// An instance loaded ahead of its timer (detection's lookahead) stays loaded until the
    /// timer fires from memory, even with timeToUnload zero; then it unloads as usual.
    @Test func withTimeToUnloadZeroATimerWithinTheLookaheadFiresFromMemory() throws {
        var machine = try Self.machine(options: HostOptions(hostID: "t", timeToUnload: .zero))
        _ = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        // Loaded again 30 ms before the 1-hour timer: armed, not saved or unloaded.
        let early = Self.start.adding(milliseconds: 3_600_000 - 30)
        var reloaded = InstanceLifecycle(
            instance: machine.instance, version: 3, suspended: false,
            options: HostOptions(hostID: "t", timeToUnload: .zero))
        let actions = reloaded.handle(.wake([]), now: early)
        #expect(actions == [.cancelTimers, .armTimer(Self.start.adding(milliseconds: 3_600_000))])
        // Loaded a second before it: saved and unloaded at once, as before.
        var tooEarly = InstanceLifecycle(
            instance: machine.instance, version: 3, suspended: false,
            options: HostOptions(hostID: "t", timeToUnload: .zero))
        #expect(tooEarly.handle(.wake([]), now: Self.start.adding(milliseconds: 3_599_000)).last == .save(.unlock))
    }
}

extension InstanceLifecycleTests {
    @Test func abandonDiscardsWhatIsNotSavedAndReleases() throws {
        var machine = try Self.machine()
        _ = Self.answeringSaves(
            &machine, machine.handle(.wake([Self.message(1, "submit", #"{"orderId": 7}"#)]), now: Self.start),
            now: Self.start)
        let actions = machine.handle(
            .wake([Self.message(2, "approve", #"{"orderId": 7}"#), Self.entry(3, .abandon)]), now: Self.start)
        #expect(actions == [.cancelTimers, .release(abandonEntry: 3), .drop])
        #expect(machine.dropped && machine.applied.isEmpty, "nothing applied in memory is kept")
    }
}
