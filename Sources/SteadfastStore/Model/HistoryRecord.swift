import Foundation
import SteadfastCore

/// What kind of thing happened to an instance (a tracking record's kind). The host records
/// them; the store keeps any kind it is given.
public struct HistoryKind: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The instance was created (detail: `input`).
    public static let created = HistoryKind(rawValue: "created")
    /// An activity started, completed, faulted or was canceled (detail: its `path`, which ends
    /// with its kind, e.g. `body.sequence[1].delay`).
    public static let activityStarted = HistoryKind(rawValue: "activity-started")
    public static let activityCompleted = HistoryKind(rawValue: "activity-completed")
    public static let activityFaulted = HistoryKind(rawValue: "activity-faulted")
    public static let activityCanceled = HistoryKind(rawValue: "activity-canceled")
    /// A Receive opened its bookmark (detail: `operation`).
    public static let bookmarkOpened = HistoryKind(rawValue: "bookmark-opened")
    /// A message resumed a bookmark (detail: `operation`, `entry`, `message`).
    public static let bookmarkResumed = HistoryKind(rawValue: "bookmark-resumed")
    /// A Delay's timer was set, and fired (detail: `path`, `due`; fired: `firedAt`).
    public static let timerSet = HistoryKind(rawValue: "timer-set")
    public static let timerFired = HistoryKind(rawValue: "timer-fired")
    /// Saved at a persist point or idle (detail: `host`), loaded and unloaded by a host.
    public static let persisted = HistoryKind(rawValue: "persisted")
    public static let loaded = HistoryKind(rawValue: "loaded")
    public static let unloaded = HistoryKind(rawValue: "unloaded")
    /// Control commands applied (detail: `entry`, and `reason` for terminate and cancel).
    public static let suspended = HistoryKind(rawValue: "suspended")
    public static let unsuspended = HistoryKind(rawValue: "unsuspended")
    public static let terminated = HistoryKind(rawValue: "terminated")
    public static let canceled = HistoryKind(rawValue: "canceled")
    /// The instance faulted (detail: `fault`, `path`).
    public static let faulted = HistoryKind(rawValue: "faulted")
    /// The instance completed (detail: `output`).
    public static let completed = HistoryKind(rawValue: "completed")
    /// What a writeLine printed (detail: `text`).
    public static let line = HistoryKind(rawValue: "line")
    /// An operator put the instance back to an earlier revision (detail: `to`, `from`, and
    /// `definitionVersion` when it moved onto another version of its definition).
    public static let rewound = HistoryKind(rawValue: "rewound")
    /// The instance was started from another one's revision (detail: `instance`, `revision`,
    /// and `definitionVersion` when it runs another version of its definition).
    public static let forked = HistoryKind(rawValue: "forked")
    /// How a run's activity events are stored: one record whose detail `trace` lists them in
    /// order, separated by spaces, each an activity path after `+` (started), `-` (completed),
    /// `!` (faulted) or `~` (canceled). Reading turns it back into those records
    /// (``HistoryEvent/expanded``): a third of the bytes, and far less work per save.
    public static let activities = HistoryKind(rawValue: "activities")

    /// The kinds that end an instance's history: retention counts from the newest of them.
    public static let final: Set<HistoryKind> = [.completed, .faulted, .terminated, .canceled]

    public var description: String { rawValue }
}

/// One event to record with a save (or a create), in the same transaction.
public struct HistoryEvent: Sendable, Hashable {
    public var at: Date
    public var kind: HistoryKind
    /// The kind's fields, as a JSON object.
    public var detail: [String: JSONValue]

    public init(at: Date, kind: HistoryKind, detail: [String: JSONValue] = [:]) {
        self.at = at
        self.kind = kind
        self.detail = detail
    }
}

extension HistoryEvent {
    /// An `activities` record's trace, from `(kind, path)` pairs in order.
    public static func activities(at: Date, _ trace: some Sequence<(kind: HistoryKind, path: String)>) -> HistoryEvent?
    {
        var text = ""
        for (kind, path) in trace {
            guard let mark = activityMarks.first(where: { $0.kind == kind })?.mark else { continue }
            if !text.isEmpty { text += " " }
            text.unicodeScalars.append(mark)
            text += path
        }
        return text.isEmpty ? nil : HistoryEvent(at: at, kind: .activities, detail: ["trace": .string(text)])
    }

    /// This record as readers see it: an `activities` record is its activity events, all at its
    /// time; any other is itself.
    public var expanded: [HistoryEvent] {
        guard kind == .activities, case .string(let trace)? = detail["trace"] else { return [self] }
        return trace.split(separator: " ").compactMap { item in
            guard let first = item.unicodeScalars.first,
                let kind = Self.activityMarks.first(where: { $0.mark == first })?.kind
            else { return nil }
            return HistoryEvent(at: at, kind: kind, detail: ["path": .string(String(item.dropFirst()))])
        }
    }

    private static let activityMarks: [(kind: HistoryKind, mark: Unicode.Scalar)] = [
        (.activityStarted, "+"), (.activityCompleted, "-"), (.activityFaulted, "!"), (.activityCanceled, "~"),
    ]
}

/// A recorded event: its place is the instance version the recording save wrote (the revision
/// it belongs to) and its order among that save's records.
public struct HistoryRecord: Sendable, Hashable {
    public var instanceID: UUID
    public var version: Int64
    public var ordinal: Int
    public var event: HistoryEvent

    public init(instanceID: UUID, version: Int64, ordinal: Int, event: HistoryEvent) {
        self.instanceID = instanceID
        self.version = version
        self.ordinal = ordinal
        self.event = event
    }

    /// Where the next page starts: after this record.
    public var position: HistoryPosition { HistoryPosition(version: version, ordinal: ordinal) }
}

/// A place in an instance's history, to read on from.
public struct HistoryPosition: Sendable, Hashable, Comparable {
    public var version: Int64
    public var ordinal: Int

    public init(version: Int64, ordinal: Int) {
        self.version = version
        self.ordinal = ordinal
    }

    public static func < (a: HistoryPosition, b: HistoryPosition) -> Bool {
        (a.version, a.ordinal) < (b.version, b.ordinal)
    }
}
