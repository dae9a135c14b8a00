import Foundation

/// What a load does when the instance is locked by another live owner (WF4's
/// `InstanceLockedExceptionAction`).
public enum InstanceLockedRetryPolicy: Sendable, Hashable {
    /// Fail at once with `instanceLocked` (the classic default).
    case noRetry
    /// Retry every `interval` (5 s classic) until `timeout` (30 s classic) has passed.
    case basicRetry(interval: Duration = .seconds(5), timeout: Duration = .seconds(30))
    /// Before attempt n (1-based) wait min(10 s, 100 ms × random(1 … 2^(n+1) − 1)), until
    /// `timeout` has passed.
    case aggressiveRetry(timeout: Duration = .seconds(30))

    /// How long to wait before retry attempt `attempt` (1 = the first retry), or nil when the
    /// policy gives up. `elapsed` is the time spent since the first attempt; `random` picks a
    /// number in the closed range it is given.
    public func delay(
        beforeAttempt attempt: Int,
        elapsed: Duration,
        random: (ClosedRange<Int>) -> Int = { Int.random(in: $0) }
    ) -> Duration? {
        switch self {
        case .noRetry:
            return nil
        case .basicRetry(let interval, let timeout):
            return elapsed + interval <= timeout ? interval : nil
        case .aggressiveRetry(let timeout):
            let exponent = min(attempt + 1, 20)
            let factor = random(1...((1 << exponent) - 1))
            let wait = min(Duration.seconds(10), .milliseconds(100) * factor)
            return elapsed + wait <= timeout ? wait : nil
        }
    }
}

extension InstanceStore {
    /// Loads an instance, retrying while another live owner holds it as `policy` says. Other
    /// errors are thrown at once; when the policy gives up, the last `instanceLocked` is thrown.
    public func loadInstance(
        _ id: UUID,
        owner: UUID,
        retry policy: InstanceLockedRetryPolicy,
        sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> LoadedInstance {
        try await retryingLocked(policy, sleep: sleep) { try await loadInstance(id, owner: owner) }
    }

    /// Loads the instance associated with `key`, retrying while it is locked as `policy` says.
    public func loadInstance(
        byKey key: InstanceKey,
        owner: UUID,
        retry policy: InstanceLockedRetryPolicy,
        sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) async throws -> LoadedInstance {
        try await retryingLocked(policy, sleep: sleep) { try await loadInstance(byKey: key, owner: owner) }
    }

    private func retryingLocked(
        _ policy: InstanceLockedRetryPolicy,
        sleep: @Sendable (Duration) async throws -> Void,
        _ load: () async throws -> LoadedInstance
    ) async throws -> LoadedInstance {
        var attempt = 0
        var elapsed = Duration.zero
        while true {
            do {
                return try await load()
            } catch let error as InstanceStoreError where error.code == .instanceLocked {
                attempt += 1
                guard let wait = policy.delay(beforeAttempt: attempt, elapsed: elapsed) else { throw error }
                try await sleep(wait)
                elapsed += wait
            }
        }
    }
}
