import Foundation
import Synchronization

/// A clock moved by hand (a virtual clock), so locks expire and timers fall due without
/// sleeping: the store's and the host's clock in tests, and in the test kit.
public final class ManualClock: Sendable {
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

    /// Moves the clock to `date`, which may not be earlier than now.
    public func set(to date: Date) {
        current.withLock { $0 = max($0, date) }
    }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        current.withLock { $0 += Double(seconds) + Double(attoseconds) / 1e18 }
    }

    /// The clock as a store clock.
    public var storeClock: StoreClock { { [self] in now } }
}
