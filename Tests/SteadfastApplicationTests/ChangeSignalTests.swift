import Foundation
import SteadfastStore
import Testing

/// The change signal that waits on a host use: a keyed change wakes the waiters of its key only,
/// an unkeyed one wakes all, and a change between reading the token and waiting is not missed.
/// (No timing: `wait` says whether a change or the timeout ended it.)
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
        async let wokenB = signal.wait(after: tokenB, for: b, timeout: .milliseconds(300))
        async let wokenA = signal.wait(after: tokenA, for: a, timeout: .seconds(60))
        signal.signal(a)
        let (changedA, changedB) = await (wokenA, wokenB)
        #expect(changedA, "a's waiter is woken by a's change")
        #expect(!changedB, "b's waiter sleeps through a's change")
    }

    @Test func anUnkeyedChangeWakesEveryWaiterAndNoChangeIsMissed() async throws {
        let signal = ChangeSignal(buckets: 16)
        let token = signal.count(of: "x")
        signal.signal()  // between the look and the wait: the wait returns at once
        #expect(await signal.wait(after: token, for: "x", timeout: .seconds(60)))
        let tokens = (0..<4).map { signal.count(of: "key-\($0)") }
        async let all: [Bool] = withTaskGroup(of: Bool.self) { group in
            for (index, token) in tokens.enumerated() {
                group.addTask { await signal.wait(after: token, for: "key-\(index)", timeout: .seconds(60)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        signal.signal()
        #expect(await all == [true, true, true, true])
    }
}
