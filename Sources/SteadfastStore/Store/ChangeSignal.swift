import Foundation
import Synchronization

/// A counter of changes that tasks can wait on: `signal()` counts one and wakes waiters;
/// `wait(after:timeout:)` returns once the count differs from the token a waiter read, or after
/// the timeout. The count is a change token: read it, look, and wait after it, and no change
/// between the look and the wait is missed.
///
/// Changes may be keyed (by instance id, say): the counts are kept in `buckets` buckets that
/// keys hash to, so a keyed change wakes only the waiters of its bucket — with many waiters, each
/// looks again when its own instance changes, not at every change. An unkeyed change wakes all.
public final class ChangeSignal: Sendable {
    private struct State {
        var counts: [Int64]
        var stopped = false
        var waiters: [UUID: (bucket: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let state: Mutex<State>
    private let buckets: Int

    public init(buckets: Int = 1) {
        self.buckets = max(1, buckets)
        state = Mutex(State(counts: Array(repeating: 0, count: max(1, buckets))))
    }

    /// How many changes there have been (of `key`'s bucket; unkeyed changes count in all).
    public func count(of key: AnyHashable? = nil) -> Int64 {
        let index = bucket(of: key)
        return state.withLock { $0.counts[index] }
    }

    /// How many changes there have been (unkeyed).
    public var count: Int64 { count() }

    /// Counts a change of `key` (nil: of everything) and wakes the waiters it concerns.
    public func signal(_ key: AnyHashable? = nil) {
        let target = key.map { self.bucket(of: $0) }
        let woken = state.withLock { state in
            if let target {
                state.counts[target] += 1
            } else {
                for index in state.counts.indices { state.counts[index] += 1 }
            }
            let ids = state.waiters.compactMap { id, waiter in target == nil || waiter.bucket == target ? id : nil }
            return ids.compactMap { state.waiters.removeValue(forKey: $0)?.continuation }
        }
        for waiter in woken { waiter.resume() }
    }

    /// Wakes every waiter, and makes later waits return at once.
    public func stop() {
        let woken = state.withLock { state in
            state.stopped = true
            defer { state.waiters = [:] }
            return state.waiters.values.map(\.continuation)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once the count of `key` differs from `token` (true), or after `timeout` (false).
    @discardableResult
    public func wait(after token: Int64, for key: AnyHashable? = nil, timeout: Duration) async -> Bool {
        let index = bucket(of: key)
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            group.addTask {
                await self.change(after: token, in: index)
                return true
            }
            let changed = await group.next() ?? false
            group.cancelAll()
            return changed
        }
    }

    private func bucket(of key: AnyHashable?) -> Int {
        guard let key, buckets > 1 else { return 0 }
        return Int(UInt(bitPattern: key.hashValue) % UInt(buckets))
    }

    /// Returns at the next change (at once if the count already differs from `token`), or when
    /// the task is cancelled — even if that happens before the waiter is registered.
    private func change(after token: Int64, in bucket: Int) async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    guard state.counts[bucket] == token, !state.stopped, !Task.isCancelled else { return true }
                    state.waiters[id] = (bucket, continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
        }
    }
}
