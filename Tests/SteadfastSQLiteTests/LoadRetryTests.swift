import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastSQLite
import SteadfastStore
import Synchronization
import Testing

@Suite("Retrying loads of locked instances")
struct LoadRetryTests {
    @Test func delaysFollowTheClassicPolicies() {
        #expect(InstanceLockedRetryPolicy.noRetry.delay(beforeAttempt: 1, elapsed: .zero) == nil)
        let basic = InstanceLockedRetryPolicy.basicRetry()
        #expect(basic.delay(beforeAttempt: 1, elapsed: .zero) == .seconds(5))
        #expect(basic.delay(beforeAttempt: 6, elapsed: .seconds(25)) == .seconds(5))
        #expect(basic.delay(beforeAttempt: 7, elapsed: .seconds(30)) == nil)

        let aggressive = InstanceLockedRetryPolicy.aggressiveRetry()
        var ranges: [ClosedRange<Int>] = []
        let first = aggressive.delay(beforeAttempt: 1, elapsed: .zero) {
            ranges.append($0)
            return $0.upperBound
        }
        #expect(first == .milliseconds(300))
        let third = aggressive.delay(beforeAttempt: 3, elapsed: .zero) {
            ranges.append($0)
            return $0.upperBound
        }
        #expect(third == .milliseconds(1500))
        let capped = aggressive.delay(beforeAttempt: 12, elapsed: .zero) {
            ranges.append($0)
            return $0.upperBound
        }
        #expect(capped == .seconds(10))
        #expect(ranges.prefix(2) == [1...3, 1...15])
        #expect(aggressive.delay(beforeAttempt: 12, elapsed: .seconds(25)) { $0.upperBound } == nil)
    }

    @Test func basicRetryLoadsOnceTheOwnersLockExpires() async throws {
        let clock = TestClock()
        let store = try await SQLiteInstanceStore(
            url: "sqlite::memory:",
            options: InstanceStoreOptions(clock: clock.storeClock)
        )
        let hostA = try await store.createLockOwner(hostID: "a", lockDuration: .seconds(12))
        let hostB = try await store.createLockOwner(hostID: "b", lockDuration: .seconds(600))
        let record = try await store.createInstance(
            CreateInstanceRequest(
                owner: hostA.id,
                definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "test"),
                snapshot: InstanceSnapshot(state: Data(), status: .idle)
            )
        )
        let sleeps = Mutex<[Duration]>([])
        let loaded = try await store.loadInstance(record.id, owner: hostB.id, retry: .basicRetry()) { wait in
            sleeps.withLock { $0.append(wait) }
            clock.advance(by: wait)
        }
        #expect(loaded.record.summary.lock?.hostID == "b")
        #expect(sleeps.withLock { $0 } == [.seconds(5), .seconds(5), .seconds(5)])

        // A lock that outlives the timeout: the last instanceLocked is thrown.
        let other = try await store.createLockOwner(hostID: "c", lockDuration: .seconds(60))
        let error = await #expect(throws: InstanceStoreError.self) {
            try await store.loadInstance(record.id, owner: other.id, retry: .basicRetry()) { clock.advance(by: $0) }
        }
        #expect(error?.code == .instanceLocked)
        #expect(error?.lockHostID == "b")
        await store.close()
    }
}
