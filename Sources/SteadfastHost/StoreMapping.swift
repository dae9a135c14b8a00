import Foundation
import SteadfastCore
import SteadfastStore

// Conversions between the core's values and the store's columns.

extension Instant {
    init(_ date: Date) { self.init(millisecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1000).rounded(.down))) }
    var date: Date { Date(timeIntervalSince1970: secondsSinceEpoch) }
}

extension WorkflowInstance {
    /// The row the store keeps for this instance now, promoted properties included; a
    /// `state-too-large` error when its state exceeds ``WorkflowLimits``.
    public func snapshot(suspended: Bool) throws(WorkflowError) -> InstanceSnapshot {
        InstanceSnapshot(
            state: try state.encoded(),
            status: state.status,
            isSuspended: suspended,
            nextTimerAt: state.nextTimer?.date,
            keys: Set(state.keys.map { InstanceKey(name: $0.key, value: $0.value) }),
            bookmarks: Set(state.bookmarks.map(\.operation)),
            promotedProperties: definition.promotedProperties(of: state.variables),
            fault: state.fault?.description ?? state.terminationReason)
    }
}
