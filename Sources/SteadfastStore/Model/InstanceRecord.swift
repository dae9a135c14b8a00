import Foundation
import SteadfastCore

/// Everything the store holds for one instance: its summary, decoded state and the related rows.
public struct InstanceRecord: Sendable, Hashable, Codable, Identifiable {
    public var summary: InstanceSummary
    /// The serialized instance state, decoded (plain bytes, whatever the stored encoding).
    public var state: Data
    /// How the state is stored in its row.
    public var stateEncoding: StateEncoding
    public var keys: Set<InstanceKey>
    /// Names of the open bookmarks (operations the instance waits on).
    public var bookmarks: Set<String>
    public var promotedProperties: [String: String]

    public init(
        summary: InstanceSummary,
        state: Data,
        stateEncoding: StateEncoding,
        keys: Set<InstanceKey>,
        bookmarks: Set<String>,
        promotedProperties: [String: String]
    ) {
        self.summary = summary
        self.state = state
        self.stateEncoding = stateEncoding
        self.keys = keys
        self.bookmarks = bookmarks
        self.promotedProperties = promotedProperties
    }

    public var id: UUID { summary.id }
    public var version: Int64 { summary.version }
    public var status: InstanceStatus { summary.status }
}

/// An instance loaded (and locked) for running: its record plus its pending inbox entries,
/// oldest first.
public struct LoadedInstance: Sendable, Hashable {
    public var record: InstanceRecord
    public var inbox: [InboxEntry]

    public init(record: InstanceRecord, inbox: [InboxEntry]) {
        self.record = record
        self.inbox = inbox
    }

    public var id: UUID { record.id }
    public var version: Int64 { record.version }
}
