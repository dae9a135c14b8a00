import Foundation
import Synchronization

/// A counter of changes that tasks can wait on: `signal()` counts one and wakes every waiter;
/// `wait(after:timeout:)` returns once the count differs from the token a waiter read, or after
/// the timeout. The count is a change token: read it, look, and wait after it, and no change
/// between the look and the wait is missed.
public final class ChangeSignal: Sendable {
    private struct State {
        var count: Int64 = 0
        var stopped = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// How many changes there have been.
    public var count: Int64 { state.withLock { $0.count } }

    /// Counts a change and wakes every waiter.
    public func signal() {
        resumeAll { $0.count += 1 }
    }

    /// Wakes every waiter, and makes later waits return at once.
    public func stop() {
        resumeAll { $0.stopped = true }
    }

    /// Returns once the count differs from `token`, or after `timeout`.
    public func wait(after token: Int64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.change(after: token) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Returns at the next change (at once if the count already differs from `token`), or when
    /// the task is cancelled — even if that happens before the waiter is registered.
    private func change(after token: Int64) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    guard state.count == token, !state.stopped, !Task.isCancelled else { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func resumeAll(_ change: (inout State) -> Void) {
        let waiters = state.withLock { state in
            change(&state)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }
}
