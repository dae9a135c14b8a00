import Foundation
import SteadfastCore
import SteadfastStore
import Synchronization

/// A clock tests move by hand, so locks expire and timers fall due without sleeping.
public final class TestClock: Sendable {
    private let current: Mutex<Date>

    /// Starts at a fixed, whole-millisecond instant (stores keep milliseconds).
    public init(start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    public func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        current.withLock { $0 += Double(seconds) + Double(attoseconds) / 1e18 }
    }

    /// The clock as a store clock.
    public var storeClock: StoreClock { { [self] in now } }
}
