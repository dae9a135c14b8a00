import Foundation
import SteadfastStore
import Testing

/// The change signal that waits on a host use: a keyed change wakes the waiters of its key only,
/// an unkeyed one wakes all, and a change between reading the token and waiting is not missed.
@Suite struct ChangeSignalTests {
    @Test func aKeyedChangeWakesOnlyItsOwnWaiters() async throws {
        let signal = ChangeSignal(buckets: 64)
        // Two keys in different buckets (the bucket follows the key's hash).
        let a = "instance-a"
        let b = try #require(
            (0..<1000).map { "instance-\($0)" }.first { key in
                let before = signal.count(of: a)
                signal.signal(key)
                return signal.count(of: a) == before  // a's count did not move: another bucket
            })
        let tokenA = signal.count(of: a)
        let tokenB = signal.count(of: b)
        let began = ContinuousClock.now
        async let wokenA: Duration = {
            await signal.wait(after: tokenA, for: a, timeout: .seconds(10))
            return ContinuousClock.now - began
        }()
        async let wokenB: Duration = {
            await signal.wait(after: tokenB, for: b, timeout: .milliseconds(300))
            return ContinuousClock.now - began
        }()
        try await Task.sleep(for: .milliseconds(50))
        signal.signal(a)
        let (timeA, timeB) = await (wokenA, wokenB)
        #expect(timeA < .seconds(5), "a's waiter is woken by a's change")
        #expect(timeB >= .milliseconds(300), "b's waiter sleeps through a's change")
    }

    @Test func anUnkeyedChangeWakesEveryWaiterAndNoChangeIsMissed() async throws {
        let signal = ChangeSignal(buckets: 16)
        let token = signal.count(of: "x")
        signal.signal()  // between the look and the wait: the wait returns at once
        let began = ContinuousClock.now
        await signal.wait(after: token, for: "x", timeout: .seconds(10))
        #expect(ContinuousClock.now - began < .seconds(5))
        let tokens = (0..<4).map { signal.count(of: "key-\($0)") }
        async let all: Void = withTaskGroup(of: Void.self) { group in
            for (index, token) in tokens.enumerated() {
                group.addTask { await signal.wait(after: token, for: "key-\(index)", timeout: .seconds(10)) }
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        signal.signal()
        await all
        #expect(ContinuousClock.now - began < .seconds(5))
    }
}
