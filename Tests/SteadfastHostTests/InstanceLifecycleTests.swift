import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastHost

/// The host's per-instance decisions, without I/O or a clock: what a run reported in, what the
/// host must do out.
@Suite struct InstanceLifecycleTests {
    static let options = HostOptions(hostID: "t", timeToPersist: .seconds(5), timeToUnload: .seconds(60))

    static func result(
        _ status: InstanceStatus, persist: Bool = false, canPersist: Bool = true, timer: Instant? = nil
    ) -> RunResult {
        RunResult(status: status, nextTimer: timer, persistRequested: persist, canPersist: canPersist)
    }

    @Test func finishedInstancesCompleteAndDrop() {
        #expect(
            InstanceLifecycle.actions(after: Self.result(.terminated), options: Self.options) == [
                .save(.complete, acknowledgePersist: false), .drop,
            ])
    }

    @Test func anIdleInstanceArmsItsTimerAndIdlePolicy() {
        let due = Instant(millisecondsSinceEpoch: 1000)
        #expect(
            InstanceLifecycle.actions(after: Self.result(.idle, timer: due), options: Self.options) == [
                .armTimer(due), .armIdlePolicy(persistAfter: .seconds(5), unloadAfter: .seconds(60)),
            ])
    }

    @Test func appliedInboxEntriesAreSavedAtOnce() {
        #expect(
            InstanceLifecycle.actions(after: Self.result(.idle), unsavedInbox: true, options: Self.options) == [
                .save(.keepLock, acknowledgePersist: false),
                .armIdlePolicy(persistAfter: .seconds(5), unloadAfter: .seconds(60)),
            ])
    }

    @Test func aSuspendedInstanceUnloadsEvenAtAPersistPoint() {
        for result in [Self.result(.idle), Self.result(.running, persist: true)] {
            #expect(
                InstanceLifecycle.actions(after: result, suspended: true, options: Self.options) == [
                    .save(.unlock, acknowledgePersist: false), .drop,
                ])
        }
        // Inside a no-persist zone it can only wait, and arms no timer.
        #expect(
            InstanceLifecycle.actions(
                after: Self.result(.idle, canPersist: false, timer: Instant(millisecondsSinceEpoch: 5)),
                suspended: true, options: Self.options
            ).isEmpty)
    }

    @Test func aPersistPointSavesBeforeAnythingElse() {
        #expect(
            InstanceLifecycle.actions(after: Self.result(.running, persist: true), options: Self.options) == [
                .save(.keepLock, acknowledgePersist: true)
            ])
        // Inside a no-persist zone a timer still fires while loaded; nothing is saved.
        let due = Instant(millisecondsSinceEpoch: 7)
        #expect(
            InstanceLifecycle.actions(after: Self.result(.idle, canPersist: false, timer: due), options: Self.options)
                == [.armTimer(due)])
    }
}
