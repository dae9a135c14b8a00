import Foundation
import SteadfastCore

/// What a save writes: a full snapshot of the instance's persisted parts. Keys, bookmarks and
/// promoted properties replace the stored sets.
public struct InstanceSnapshot: Sendable, Hashable {
    public var state: Data
    public var status: InstanceStatus
    public var isSuspended: Bool
    /// When the earliest durable timer is due (nil: no timer).
    public var nextTimerAt: Date?
    public var keys: Set<InstanceKey>
    public var bookmarks: Set<String>
    public var promotedProperties: [String: String]
    public var fault: String?
    /// Why no host can run the instance now; nil (the usual) clears a previous mark.
    public var blockedReason: String?

    public init(
        state: Data,
        status: InstanceStatus,
        isSuspended: Bool = false,
        nextTimerAt: Date? = nil,
        keys: Set<InstanceKey> = [],
        bookmarks: Set<String> = [],
        promotedProperties: [String: String] = [:],
        fault: String? = nil,
        blockedReason: String? = nil
    ) {
        self.state = state
        self.status = status
        self.isSuspended = isSuspended
        self.nextTimerAt = nextTimerAt
        self.keys = keys
        self.bookmarks = bookmarks
        self.promotedProperties = promotedProperties
        self.fault = fault
        self.blockedReason = blockedReason
    }
}
