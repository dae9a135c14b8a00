import Foundation
import SteadfastCore
import SteadfastStore
import Synchronization

/// A clock tests move by hand, so locks expire and timers fall due without sleeping.
public final class TestClock: Sendable {
    private let current: Mutex<Date>
    private let step = Mutex<Double>(0)

    /// Starts at a fixed, whole-millisecond instant (stores keep milliseconds).
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    /// The current time; with an automatic step set, every reading then moves the clock on by
    /// that step (time passing between one call's reading and the next call's).
    public var now: Date {
        let step = step.withLock { $0 }
        return current.withLock {
            let reading = $0
            $0 += step
            return reading
        }
    }

    /// Makes every later reading advance the clock by `duration` (zero: only by hand again).
    public func advanceOnEveryReading(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        step.withLock { $0 = Double(seconds) + Double(attoseconds) / 1e18 }
    }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        current.withLock { $0 += Double(seconds) + Double(attoseconds) / 1e18 }
    }

    /// The clock as a store clock.
    public var storeClock: StoreClock { { [self] in now } }
}
