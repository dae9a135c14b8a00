import Metrics
import SteadfastCore

/// The host's metrics, through swift-metrics: whatever backend the process bootstraps exports
/// them (`wf serve --http` serves them in Prometheus's format on `/metrics`); without one they
/// cost next to nothing.
enum HostMetrics {
    static func started(_ definition: DefinitionIdentity) {
        Counter(label: "steadfast_instances_started_total", dimensions: [("definition", definition.name)]).increment()
    }

    /// Counts what an event says: an instance loaded, finished (by definition and status).
    static func record(_ event: HostEvent) {
        switch event {
        case .loaded: Counter(label: "steadfast_instances_loaded_total").increment()
        case .finished(_, let state):
            Counter(
                label: "steadfast_instances_finished_total",
                dimensions: [("definition", state.definition.name), ("status", state.status.rawValue)]
            ).increment()
        case .abandoned: Counter(label: "steadfast_instances_abandoned_total").increment()
        default: break
        }
    }

    /// A save and how long the store took; `outcome` is `saved`, `refused` or `failed`.
    static func saved(_ outcome: String, after duration: Duration) {
        Counter(label: "steadfast_saves_total", dimensions: [("outcome", outcome)]).increment()
        Metrics.Timer(label: "steadfast_save_duration_seconds").record(duration: duration)
    }

    static func renewal(succeeded: Bool) {
        Counter(label: "steadfast_lock_renewals_total", dimensions: [("outcome", succeeded ? "renewed" : "failed")])
            .increment()
    }

    /// How late a timer fired after its due time.
    static func timerFired(late lateness: Duration) {
        Metrics.Timer(label: "steadfast_timer_lateness_seconds").record(duration: max(.zero, lateness))
    }

    /// A load that found the instance locked by another host, retried as `instanceLockedRetry` says.
    static func lockedInstanceRetry() {
        Counter(label: "steadfast_locked_instance_retries_total").increment()
    }

    static func detectionRound(claimed: Int) {
        Counter(label: "steadfast_detection_rounds_total").increment()
        Counter(label: "steadfast_instances_claimed_total").increment(by: claimed)
    }
}
