import Foundation
import SteadfastCore
import SteadfastStore

// Conversions between the core's values and the store's columns.

extension Instant {
    init(_ date: Date) { self.init(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) }
    var date: Date { Date(timeIntervalSince1970: secondsSinceEpoch) }
}

extension SteadfastCore.InstanceState {
    /// The row the store keeps for this state.
    func snapshot(suspended: Bool) -> InstanceSnapshot {
        InstanceSnapshot(
            state: encoded(),
            status: status,
            isSuspended: suspended,
            nextTimerAt: nextTimer?.date,
            keys: Set(keys.map { InstanceKey(name: $0.key, value: $0.value) }),
            bookmarks: Set(bookmarks.map(\.operation)),
            fault: fault?.description ?? terminationReason)
    }
}
