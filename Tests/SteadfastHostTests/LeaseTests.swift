import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Synchronization
import Testing

@testable import SteadfastHost
@testable import SteadfastSQLite

/// The lease safety margin: a host whose lock ran out while it was paused (SIGSTOP past its
/// expiry, then SIGCONT) must not run a step that another host has meanwhile run and saved.
@Suite struct LeaseTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-lease-\(UUID()).db").path

    static let reminder = try! WorkflowDefinition(name: "reminder", version: "1") {
        Pick {
            Trigger(Receive("done"))
            Trigger(Delay("PT0.5S")) { WriteLine("'the reminder went out'") }
        }
    }

    func host(
        _ store: any InstanceStore, _ id: String, clock: ShiftedClock, events: Recorder, lock: Duration = .seconds(5),
        margin: Duration = .seconds(5)
    ) -> WorkflowHost {
        var options = HostOptions(
            hostID: id, timeToUnload: .seconds(600), runnableInstancesDetectionPeriod: .seconds(600))
        options.hostLockRenewalPeriod = lock
        options.hostLockGrace = lock
        options.lockSafetyMargin = margin
        return WorkflowHost(
            store: store, catalog: DefinitionCatalog([Self.reminder]), options: options,
            onEvent: { events.record($0) }, clock: clock.storeClock)
    }

    /// A store on a temporary file whose clock a test moves forward.
    func openStore() async throws -> (SQLiteInstanceStore, ShiftedClock) {
        let clock = ShiftedClock()
        let store = try await SQLiteInstanceStore(
            url: "sqlite:\(path)", options: InstanceStoreOptions(clock: clock.storeClock))
        try await store.setCompletionAction(.deleteNothing)
        return (store, clock)
    }

    @Test func aHostWhoseLockRanOutRunsNothingAnotherHostTookOver() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let (store, clock) = try await openStore()
        let (pausedEvents, otherEvents) = (Recorder(), Recorder())
        let paused = host(store, "paused", clock: clock, events: pausedEvents)
        try await paused.start(background: false)
        let id = try await paused.startInstance(definitionName: "reminder")
        // The host holds the instance, its timer armed 0.5 s ahead. Now it is "paused" past
        // its lock's expiry (10 s): another host claims the instance and runs the timer step.
        clock.advance(by: .seconds(11))
        let other = host(store, "other", clock: clock, events: otherEvents)
        try await other.start(background: false)
        try await other.detectRunnableInstances()
        try await eventually { try await store.readInstance(id).status == .completed }
        #expect(otherEvents.lines(of: id) == ["the reminder went out"])
        // The paused host's own timer fires: it must not run the step again, and lets go.
        try await eventually {
            pausedEvents.contains { if case .abandoned(id.uuidString, _) = $0 { true } else { false } }
        }
        #expect(pausedEvents.lines(of: id).isEmpty, "the paused host ran a step another host had saved")
        #expect(await paused.loadedCount == 0)
        await other.stop()
        await paused.stop()
    }

    /// Within the margin but not expired: the host renews first, then goes on.
    @Test func aHostCloseToExpiryRenewsBeforeWorking() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let (store, clock) = try await openStore()
        let events = Recorder()
        let host = host(store, "late", clock: clock, events: events, lock: .seconds(30), margin: .seconds(20))
        try await host.start(background: false)
        let id = try await host.startInstance(definitionName: "reminder")
        // 15 s left of the lock's 60: inside the 20 s margin (and room for a loaded machine).
        clock.advance(by: .seconds(45))
        try await eventually { try await store.readInstance(id).status == .completed }
        #expect(events.lines(of: id) == ["the reminder went out"])
        await host.stop()
    }
}

/// The real time plus an offset a test moves forward (a "pause" of the host), so timers armed
/// in real time still come due.
final class ShiftedClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    func advance(by duration: Duration) {
        offset.withLock { $0 += Double(duration.components.seconds) }
    }

    var storeClock: StoreClock { { [self] in Date().addingTimeInterval(offset.withLock { $0 }) } }
}
