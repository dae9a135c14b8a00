import SteadfastCore
import SteadfastStore

/// How a ``WorkflowHost`` treats its instances; the defaults are the classic store's.
public struct HostOptions: Sendable {
    /// Save an idle instance after this long, keeping it loaded and locked; nil: never.
    public var timeToPersist: Duration?
    /// Save, unlock and drop an idle instance after this long; zero: at once.
    public var timeToUnload: Duration
    /// How often the host renews its lock owner.
    public var hostLockRenewalPeriod: Duration
    /// Added to the renewal period for the lock's lifetime, so one late renewal is harmless.
    public var hostLockGrace: Duration
    /// How often the host asks the store for runnable instances (shortened for imminent timers).
    public var runnableInstancesDetectionPeriod: Duration
    /// What to do when an instance is locked by another live host.
    public var instanceLockedRetry: InstanceLockedRetryPolicy
    /// The most instances loaded at once.
    public var maxConcurrentInstances: Int
    /// The name this host registers under.
    public var hostID: String
    /// How often the host looks in the store for inbox entries (messages, control commands)
    /// that arrived for the instances it holds.
    public var inboxPollInterval: Duration = .milliseconds(25)
    /// How long ``WorkflowHost/stop()`` waits for loaded instances to reach a point where they
    /// can be saved (the end of a no-persist zone, an async activity's result); those still
    /// running then are abandoned: their locks are released without a save, and they resume
    /// from their last save on the next host that loads them.
    public var shutdownTimeout: Duration = .seconds(10)
    /// Part of the lock's lifetime kept in reserve: once less than this is left before the
    /// host's lock expires (a paused or starved host), it starts no work on any instance and
    /// finds out from its next renewal whether it may go on; another host may load its
    /// instances only after the lock expired, so no step it saved runs twice.
    public var lockSafetyMargin: Duration = .seconds(5)
    /// How far ahead runnable-instance detection claims unloaded instances whose timers come
    /// due: they are loaded that much early (at most the detection period) and fire from
    /// memory on time, and one detection transaction claims all timers of that window.
    public var timerLookahead: Duration = .milliseconds(50)
    /// What the host records in each instance's history and revisions (written with its
    /// saves). Off by default for now: on the lightest workflows it costs about a third of the
    /// throughput on SQLite and a sixth on PostgreSQL (`host-bench tracking`).
    public var tracking: TrackingProfile = .off
    /// Tracking profiles for some definitions, by name, in place of `tracking` for their instances.
    public var trackingByDefinition: [String: TrackingProfile] = [:]
    /// How long the history of a finished instance is kept; the host removes older history a
    /// few instances at a time, at each lock renewal.
    public var historyRetention: Duration = .seconds(7 * 24 * 3600)

    public init(
        hostID: String,
        timeToPersist: Duration? = nil,
        timeToUnload: Duration = .seconds(60),
        hostLockRenewalPeriod: Duration = .seconds(30),
        hostLockGrace: Duration = .seconds(30),
        runnableInstancesDetectionPeriod: Duration = .seconds(5),
        instanceLockedRetry: InstanceLockedRetryPolicy = .noRetry,
        maxConcurrentInstances: Int = 1000
    ) {
        self.hostID = hostID
        self.timeToPersist = timeToPersist
        self.timeToUnload = timeToUnload
        self.hostLockRenewalPeriod = hostLockRenewalPeriod
        self.hostLockGrace = hostLockGrace
        self.runnableInstancesDetectionPeriod = runnableInstancesDetectionPeriod
        self.instanceLockedRetry = instanceLockedRetry
        self.maxConcurrentInstances = maxConcurrentInstances
    }
}

extension HostOptions {
    /// What the host records for instances of `definition`.
    public func tracking(for definition: DefinitionIdentity) -> TrackingProfile {
        trackingByDefinition[definition.name] ?? tracking
    }
}
