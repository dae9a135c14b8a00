import Foundation
import SteadfastCore
import SteadfastStore

/// One instance as every front end shows it (`wf --json`, the HTTP API): the store's columns
/// plus what its decoded state says. Built from a record even when the state cannot be decoded:
/// then the store's metadata is shown and `stateError` says why the rest is missing. For an
/// instance the completion action deleted, only what its final state says is shown (`deleted`
/// is true; store-only fields such as version and times are null, never invented).
public struct InstanceView: Codable, Sendable, Hashable {
    public struct BookmarkView: Codable, Sendable, Hashable {
        public var operation: String
        public var correlateOn: String?
    }

    public struct LockView: Codable, Sendable, Hashable {
        public var hostID: String
        public var ownerID: String
        public var until: String
        /// Whether the lock had expired when the view was made (any host may then take it).
        public var expired: Bool
    }

    public struct FaultView: Codable, Sendable, Hashable {
        public var message: String
        /// The faulted activity's path (unknown when only the store's fault column was read).
        public var activityPath: String?
    }

    public var id: String
    public var definition: DefinitionIdentity
    /// The status; a placeholder (`faulted`) when `unreadable` is set, and then written as
    /// `"unreadable"` in JSON.
    public var status: InstanceStatus
    /// Why the row cannot be used as it stands (its stored status is one this build does not
    /// know); null for a normal row. Such an instance is listed and shown but never run.
    public var unreadable: String?
    public var suspended: Bool
    /// Why no host runs the instance now (its exact definition is not hosted); null otherwise.
    public var blocked: String?
    /// The store's version; null once the instance was deleted.
    public var version: Int64?
    /// The variables' values; null when the state could not be decoded.
    public var variables: [String: JSONValue]?
    public var bookmarks: [BookmarkView]
    public var nextTimer: String?
    public var lockOwner: LockView?
    /// The correlation keys, with their JSON values.
    public var keys: [String: JSONValue]
    public var promotedProperties: [String: String]
    public var createdAt: String?
    public var updatedAt: String?
    public var fault: FaultView?
    public var terminationReason: String?
    /// True when the completion action deleted the instance's rows.
    public var deleted: Bool
    /// Why the state could not be decoded, when it could not.
    public var stateError: String?

    /// A view of `record`, with `state` decoded from it (pass nil to decode here).
    public init(record: InstanceRecord, state: InstanceState? = nil, now: Date = Date()) {
        let summary = record.summary
        id = summary.id.uuidString
        definition = summary.definition
        status = summary.status
        unreadable = summary.unreadable
        suspended = summary.isSuspended
        blocked = summary.blockedReason
        version = summary.version
        lockOwner = summary.lock.map {
            LockView(
                hostID: $0.hostID, ownerID: $0.ownerID.uuidString, until: Self.iso8601($0.expiresAt),
                expired: $0.expiresAt <= now)
        }
        keys = Dictionary(record.keys.map { ($0.name, $0.decodedValue) }, uniquingKeysWith: { first, _ in first })
        promotedProperties = record.promotedProperties
        createdAt = Self.iso8601(summary.createdAt)
        updatedAt = Self.iso8601(summary.updatedAt)
        deleted = false
        var decoded = state
        if decoded == nil {
            do {
                decoded = try InstanceState.decode(record.state)
            } catch {
                stateError = error.message
            }
        }
        if let decoded {
            variables = decoded.variables
            bookmarks = Self.bookmarks(decoded)
            nextTimer = decoded.nextTimer?.iso8601 ?? summary.nextTimerAt.map(Self.iso8601)
            // The store's fault column carries a termination reason too; show it once, as the reason.
            fault =
                decoded.fault.map { FaultView(message: $0.message, activityPath: $0.activityPath) }
                ?? (decoded.terminationReason == nil
                    ? summary.fault.map { FaultView(message: $0, activityPath: nil) } : nil)
            terminationReason = decoded.terminationReason
        } else {
            bookmarks = record.bookmarks.sorted().map { BookmarkView(operation: $0, correlateOn: nil) }
            nextTimer = summary.nextTimerAt.map(Self.iso8601)
            fault = summary.fault.map { FaultView(message: $0, activityPath: nil) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        definition = try container.decode(DefinitionIdentity.self, forKey: .definition)
        unreadable = try container.decodeIfPresent(String.self, forKey: .unreadable)
        let statusText = try container.decode(String.self, forKey: .status)
        if unreadable != nil {
            status = InstanceStatus(rawValue: statusText) ?? .faulted
        } else if let known = InstanceStatus(rawValue: statusText) {
            status = known
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .status, in: container, debugDescription: "unknown status '\(statusText)'")
        }
        suspended = try container.decode(Bool.self, forKey: .suspended)
        blocked = try container.decodeIfPresent(String.self, forKey: .blocked)
        version = try container.decodeIfPresent(Int64.self, forKey: .version)
        variables = try container.decodeIfPresent([String: JSONValue].self, forKey: .variables)
        bookmarks = try container.decode([BookmarkView].self, forKey: .bookmarks)
        nextTimer = try container.decodeIfPresent(String.self, forKey: .nextTimer)
        lockOwner = try container.decodeIfPresent(LockView.self, forKey: .lockOwner)
        keys = try container.decode([String: JSONValue].self, forKey: .keys)
        promotedProperties = try container.decode([String: String].self, forKey: .promotedProperties)
        createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
        updatedAt = try container.decodeIfPresent(String.self, forKey: .updatedAt)
        fault = try container.decodeIfPresent(FaultView.self, forKey: .fault)
        terminationReason = try container.decodeIfPresent(String.self, forKey: .terminationReason)
        deleted = try container.decode(Bool.self, forKey: .deleted)
        stateError = try container.decodeIfPresent(String.self, forKey: .stateError)
    }

    /// A view of an instance whose rows the completion action deleted: what its final state says.
    public init(deleted state: InstanceState) {
        id = state.instanceID.uppercased()
        definition = state.definition
        status = state.status
        suspended = false
        keys = state.keys
        promotedProperties = [:]
        deleted = true
        variables = state.variables
        bookmarks = Self.bookmarks(state)
        nextTimer = state.nextTimer?.iso8601
        fault = state.fault.map { FaultView(message: $0.message, activityPath: $0.activityPath) }
        terminationReason = state.terminationReason
    }

    /// A view of an instance as one of its revisions (saved states) says it was.
    public init(revision state: InstanceState, version: Int64) {
        self.init(deleted: state)
        deleted = false
        suspended = false
        self.version = version
    }

    /// A view of an instance whose record could not be read (its state bytes are damaged): the
    /// listing's metadata, and why the rest is missing.
    public init(summary: InstanceSummary, stateError: String, now: Date = Date()) {
        let record = InstanceRecord(
            summary: summary, state: Data(), stateEncoding: .none, keys: [], bookmarks: [], promotedProperties: [:])
        self.init(record: record, now: now)
        self.stateError = stateError
    }

    private static func bookmarks(_ state: InstanceState) -> [BookmarkView] {
        state.bookmarks.map { BookmarkView(operation: $0.operation, correlateOn: $0.correlateOn) }
            .sorted { ($0.operation, $0.correlateOn ?? "") < ($1.operation, $1.correlateOn ?? "") }
    }

    /// `2026-11-23T14:43:52.123Z`: the same ISO-8601 form the core uses for timers.
    public static func iso8601(_ date: Date) -> String {
        Instant(secondsSinceEpoch: date.timeIntervalSince1970).iso8601
    }

    private enum CodingKeys: String, CodingKey {
        case id, definition, status, unreadable, suspended, blocked, version, variables, bookmarks, nextTimer,
            lockOwner, keys
        case promotedProperties, createdAt, updatedAt, fault, terminationReason, deleted, stateError
    }

    /// The status as front ends show it: `unreadable` for a row whose stored status is unknown.
    public var statusName: String { unreadable == nil ? status.rawValue : "unreadable" }

    /// The view as JSON, the one definition of its wire shape (`encode(to:)` writes this).
    /// Absent values are `null` (so every field is always there), except `stateError` and
    /// `unreadable`, which appear only when the state or the row could not be read.
    public var jsonValue: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        var fields: [String: JSONValue] = [
            "id": .string(id),
            "definition": .object([
                "name": .string(definition.name), "version": .string(definition.version),
                "fingerprint": .string(definition.fingerprint),
            ]),
            "status": .string(statusName), "suspended": .bool(suspended), "blocked": text(blocked),
            "version": version.map { .number(Double($0)) } ?? .null,
            "variables": variables.map(JSONValue.object) ?? .null,
            "bookmarks": .array(
                bookmarks.map { .object(["operation": .string($0.operation), "correlateOn": text($0.correlateOn)]) }),
            "nextTimer": text(nextTimer),
            "lockOwner": lockOwner.map {
                .object([
                    "hostID": .string($0.hostID), "ownerID": .string($0.ownerID), "until": .string($0.until),
                    "expired": .bool($0.expired),
                ])
            } ?? .null,
            "keys": .object(keys), "promotedProperties": .object(promotedProperties.mapValues(JSONValue.string)),
            "createdAt": text(createdAt), "updatedAt": text(updatedAt),
            "fault": fault.map { .object(["message": .string($0.message), "activityPath": text($0.activityPath)]) }
                ?? .null,
            "terminationReason": text(terminationReason), "deleted": .bool(deleted),
        ]
        if let unreadable { fields["unreadable"] = .string(unreadable) }
        if let stateError { fields["stateError"] = .string(stateError) }
        return .object(fields)
    }

    public func encode(to encoder: any Encoder) throws {
        try jsonValue.encode(to: encoder)
    }
}

/// An inbox entry as the front ends show it (the history of applied commands, what waits).
public struct InboxEntryView: Codable, Sendable, Hashable {
    public var id: Int64
    public var instanceID: String
    /// `message`, `suspend`, `unsuspend`, `terminate` or `cancel`.
    public var kind: String
    public var operation: String?
    /// A message's body (JSON; a body that is not JSON is shown as a string).
    public var body: JSONValue?
    /// A terminate or cancel command's reason.
    public var reason: String?
    public var clientID: String?
    public var state: InboxEntry.State
    /// Why a rejected entry was rejected.
    public var rejection: String?
    public var enqueuedAt: String
    public var settledAt: String?

    public init(_ entry: InboxEntry) {
        id = entry.id
        instanceID = entry.instanceID.uuidString
        kind = entry.command.kind
        switch entry.command {
        case .message(let operation, let body):
            self.operation = operation
            self.body = (try? JSONValue.parse(body, what: "the body")) ?? .string(String(decoding: body, as: UTF8.self))
        case .terminate(let reason), .cancel(let reason):
            self.reason = reason
        case .suspend, .unsuspend, .abandon:
            break
        }
        clientID = entry.clientID
        state = entry.state
        rejection = entry.reason
        enqueuedAt = InstanceView.iso8601(entry.enqueuedAt)
        settledAt = entry.settledAt.map(InstanceView.iso8601)
    }
}

/// One record of an instance's history, as every front end shows it.
public struct HistoryEntryView: Codable, Sendable, Hashable {
    /// The instance version the save that recorded it wrote (its revision).
    public var version: Int64
    /// Its order among that save's records.
    public var ordinal: Int
    public var at: String
    /// `created`, `activity-started`, `bookmark-resumed`, `timer-fired`, `persisted`, `completed`, …
    public var kind: String
    /// The kind's fields (an activity's path, a message, a reason, the output, …).
    public var detail: JSONValue

    public init(_ record: HistoryRecord) {
        version = record.version
        ordinal = record.ordinal
        at = InstanceView.iso8601(record.event.at)
        kind = record.event.kind.rawValue
        detail = .object(record.event.detail)
    }

    /// Where reading on continues after this record.
    public var position: HistoryPosition { HistoryPosition(version: version, ordinal: ordinal) }

    /// Whether this record ends the history (the instance completed, faulted, was terminated
    /// or canceled).
    public var isFinal: Bool { HistoryKind.final.contains(HistoryKind(rawValue: kind)) }

    /// One line for people: `TIME  vN  kind  what`.
    public var text: String {
        let fields: String
        if case .object(let values) = detail, !values.isEmpty {
            fields = values.keys.sorted().map { key in "\(key) \(values[key]?.text ?? "")" }.joined(separator: ", ")
        } else {
            fields = ""
        }
        return "\(at)  v\(version)  \(kind)" + (fields.isEmpty ? "" : "  \(fields)")
    }
}
