import ArgumentParser
import Foundation
import SteadfastCore
import SteadfastStore

// MARK: Errors

/// An error the command reports as one line: `wf: <message>`.
struct CLIError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) {
        self.message = message
    }

    var description: String { message }
}

/// The one-line message for an error: the store's and the core's messages say what to do next.
func oneLineMessage(_ error: any Error) -> String {
    let message: String
    switch error {
    case let error as CLIError: message = error.message
    case let error as InstanceStoreError: message = error.message
    case let error as WorkflowError: message = error.message
    default: message = String(describing: error)
    }
    return message.split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// Runs a command's body; any error other than ArgumentParser's own exits is printed as one line
/// on stderr (`wf: <message>`) and the command exits 1. Standard output gets nothing more.
func reportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let exit as CleanExit {
        throw exit
    } catch {
        printError("wf: \(oneLineMessage(error))")
        throw ExitCode.failure
    }
}

/// Opens the store, runs `body` with it and closes it, whatever `body` does. Errors are reported
/// as by ``reportingErrors(_:)``.
func withStore<T>(
    _ options: StoreOptions,
    mustExist: Bool = true,
    _ body: (any InstanceStore) async throws -> T
) async throws -> T {
    try await reportingErrors {
        let store = try await options.open(mustExist: mustExist)
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

/// Parses an instance id argument.
func parseInstanceID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text.trimmingCharacters(in: .whitespaces)) else {
        throw CLIError(
            "'\(text)' is not an instance id: expected a UUID such as 6F9619FF-8B86-D011-B42D-00C04FC964FF "
                + "(list them with `wf instances`)."
        )
    }
    return id
}

// MARK: JSON

/// Prints `value` as pretty JSON with sorted keys: with `--json`, this is all stdout gets.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// `2026-11-23T14:43:52.123Z`: the same ISO-8601 form the core uses for timers.
func iso8601(_ date: Date) -> String {
    Instant(secondsSinceEpoch: date.timeIntervalSince1970).iso8601
}

// MARK: Instance view

/// One instance as the command line shows it (and as `--json` prints it): the store's columns
/// plus what its decoded state says. Built from a record even when the state cannot be decoded:
/// then the store's metadata is shown and `stateError` says why the rest is missing.
struct InstanceView: Codable, Sendable, Hashable {
    struct Definition: Codable, Sendable, Hashable {
        var name: String
        var version: String
    }

    struct BookmarkView: Codable, Sendable, Hashable {
        var operation: String
        var correlateOn: String?
    }

    struct LockView: Codable, Sendable, Hashable {
        var hostID: String
        var ownerID: String
        var until: String
        /// Whether the lock had expired when the view was made (any host may then take it).
        var expired: Bool
    }

    struct FaultView: Codable, Sendable, Hashable {
        var message: String
        /// The faulted activity's path (unknown when only the store's fault column was read).
        var activityPath: String?
    }

    var id: String
    var definition: Definition
    var status: String
    var suspended: Bool
    var version: Int64
    /// The variables' values; nil when the state could not be decoded.
    var variables: [String: JSONValue]?
    var bookmarks: [BookmarkView]
    var nextTimer: String?
    var lockOwner: LockView?
    var keys: [String: String]
    var createdAt: String
    var updatedAt: String
    var fault: FaultView?
    var terminationReason: String?
    /// Why the state could not be decoded, when it could not.
    var stateError: String?

    /// A view of `record`, with `state` decoded from it (pass nil to decode here).
    init(record: InstanceRecord, state: InstanceState? = nil, now: Date = Date()) {
        let summary = record.summary
        id = summary.id.uuidString
        definition = Definition(name: summary.definition.name, version: summary.definition.version)
        status = summary.status.rawValue
        suspended = summary.isSuspended
        version = summary.version
        lockOwner = summary.lock.map {
            LockView(
                hostID: $0.hostID,
                ownerID: $0.ownerID.uuidString,
                until: iso8601($0.expiresAt),
                expired: $0.expiresAt <= now
            )
        }
        keys = Dictionary(record.keys.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        createdAt = iso8601(summary.createdAt)
        updatedAt = iso8601(summary.updatedAt)
        let decoded: InstanceState?
        if let state {
            decoded = state
            stateError = nil
        } else {
            do {
                decoded = try InstanceState.decode(record.state)
                stateError = nil
            } catch {
                decoded = nil
                stateError = error.message
            }
        }
        if let decoded {
            variables = decoded.variables
            bookmarks = decoded.bookmarks.map { BookmarkView(operation: $0.operation, correlateOn: $0.correlateOn) }
                .sorted { ($0.operation, $0.correlateOn ?? "") < ($1.operation, $1.correlateOn ?? "") }
            nextTimer = decoded.nextTimer?.iso8601 ?? summary.nextTimerAt.map(iso8601)
            fault =
                decoded.fault.map { FaultView(message: $0.message, activityPath: $0.activityPath) }
                ?? summary.fault.map { FaultView(message: $0, activityPath: nil) }
            terminationReason = decoded.terminationReason
        } else {
            variables = nil
            bookmarks = record.bookmarks.sorted().map { BookmarkView(operation: $0, correlateOn: nil) }
            nextTimer = summary.nextTimerAt.map(iso8601)
            fault = summary.fault.map { FaultView(message: $0, activityPath: nil) }
            terminationReason = nil
        }
    }

    /// A view of an instance whose record could not be read (its state bytes are damaged): the
    /// listing's metadata, and why the rest is missing.
    init(summary: InstanceSummary, stateError: String, now: Date = Date()) {
        let record = InstanceRecord(
            summary: summary, state: Data(), stateEncoding: .none, keys: [], bookmarks: [], promotedProperties: [:])
        self.init(record: record, now: now)
        self.stateError = stateError
    }

    private enum CodingKeys: String, CodingKey {
        case id, definition, status, suspended, version, variables, bookmarks, nextTimer, lockOwner, keys
        case createdAt, updatedAt, fault, terminationReason, stateError
    }

    /// Absent values are written as `null` (so every field is always there), except `stateError`,
    /// which appears only when the state could not be decoded.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(definition, forKey: .definition)
        try container.encode(status, forKey: .status)
        try container.encode(suspended, forKey: .suspended)
        try container.encode(version, forKey: .version)
        try container.encode(variables, forKey: .variables)
        try container.encode(bookmarks, forKey: .bookmarks)
        try container.encode(nextTimer, forKey: .nextTimer)
        try container.encode(lockOwner, forKey: .lockOwner)
        try container.encode(keys, forKey: .keys)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(fault, forKey: .fault)
        try container.encode(terminationReason, forKey: .terminationReason)
        try container.encodeIfPresent(stateError, forKey: .stateError)
    }
}

// MARK: Text rendering

extension InstanceView {
    /// The status, with `(suspended)` when it is.
    var statusText: String { suspended ? "\(status) (suspended)" : status }

    /// Who holds the lock, for people.
    var lockText: String {
        guard let lockOwner else { return "-" }
        return lockOwner.expired ? "\(lockOwner.hostID) (expired)" : lockOwner.hostID
    }

    /// The listing's columns.
    static let tableHeader = ["ID", "DEFINITION", "STATUS", "WAITING FOR", "NEXT TIMER", "LOCKED BY", "UPDATED"]

    var tableRow: [String] {
        let waiting = stateError != nil ? "(state unreadable)" : bookmarks.map(\.operation).joined(separator: ",")
        return [
            id, "\(definition.name)@\(definition.version)", statusText, waiting.isEmpty ? "-" : waiting,
            nextTimer ?? "-", lockText, updatedAt,
        ]
    }

    /// Every field, one per line, for `wf show`.
    var detailText: String {
        var lines: [(String, String)] = [
            ("id", id),
            ("definition", "\(definition.name) version \(definition.version)"),
            ("status", statusText),
            ("version", String(version)),
            ("created", createdAt),
            ("updated", updatedAt),
        ]
        if let lockOwner {
            let state = lockOwner.expired ? "expired at" : "until"
            lines.append(("locked by", "\(lockOwner.hostID) (owner \(lockOwner.ownerID)) \(state) \(lockOwner.until)"))
        } else {
            lines.append(("locked by", "-"))
        }
        let keyText = keys.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        lines.append(("keys", keyText.isEmpty ? "-" : keyText))
        let bookmarkText = bookmarks.map { bookmark in
            bookmark.correlateOn.map { "\(bookmark.operation) (correlates on \($0))" } ?? bookmark.operation
        }
        lines.append(("waiting for", bookmarkText.isEmpty ? "-" : bookmarkText.joined(separator: ", ")))
        lines.append(("next timer", nextTimer ?? "-"))
        if let fault {
            lines.append(("fault", fault.activityPath.map { "\(fault.message) (at \($0))" } ?? fault.message))
        }
        if let terminationReason { lines.append(("reason", terminationReason)) }
        if let stateError { lines.append(("state error", stateError)) }
        let width = lines.map(\.0.count).max() ?? 0
        var text = lines.map { label, value in
            label + ":" + String(repeating: " ", count: width - label.count + 1) + value
        }
        if let variables {
            text.append("variables:")
            if variables.isEmpty { text.append("  (none)") }
            for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
                text.append("  \(name) = \(value.jsonText)")
            }
        }
        return text.joined(separator: "\n")
    }
}

/// Columns padded to their widest cell, two spaces apart.
func renderTable(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for row in all {
        for (index, cell) in row.enumerated() where index < widths.count {
            widths[index] = max(widths[index], cell.count)
        }
    }
    return all.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
