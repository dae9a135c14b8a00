import ArgumentParser
import Foundation
import SteadfastApplication
import SteadfastCore

// MARK: Exit codes

/// `wf`'s exit codes: 0 done, 1 error, 2 the instance faulted or was terminated, 64 usage.
enum ExitStatus {
    static let instanceFailed = ExitCode(2)
    static let usage = ExitCode(64)
}

// MARK: Errors and output

/// The `--json` flag every command has: stdout gets JSON only, errors included
/// (`{"error": {"code", "message"}}`).
struct OutputOptions: ParsableArguments {
    @Flag(
        name: .long,
        help: "Print JSON (and nothing else) on stdout; errors too, as {\"error\": {\"code\", \"message\"}}.")
    var json = false
}

/// Runs a command's body; any error becomes one line on stderr (`wf: <message>`), or with
/// `--json` a JSON error object on stdout, and exit 1.
func reportingErrors<T>(json: Bool, _ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let exit as ExitCode {
        throw exit
    } catch let exit as CleanExit {
        throw exit
    } catch {
        let error = ApplicationError(error)
        report(error, json: json)
        // A wrong argument found while running (a body that is not JSON, an id that is no id)
        // is a usage error like one the parser finds.
        throw error.code == .invalidInput ? ExitStatus.usage : ExitCode.failure
    }
}

/// Prints an error as `wf` reports every error.
func report(_ error: ApplicationError, json: Bool) {
    if json {
        print(error.jsonObject.jsonText)
    } else {
        printError("wf: " + error.message.split(whereSeparator: \.isNewline).joined(separator: " "))
    }
}

/// Prints `value` as pretty JSON with sorted keys.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

// MARK: Text rendering

extension InstanceView {
    /// The status, with `(suspended)` or `(blocked)` when it is.
    var statusText: String {
        var text = statusName
        if suspended { text += " (suspended)" }
        if blocked != nil { text += " (blocked)" }
        return text
    }

    /// Who holds the lock, for people.
    var lockText: String {
        guard let lockOwner else { return "-" }
        return lockOwner.expired ? "\(lockOwner.hostID) (expired)" : lockOwner.hostID
    }

    var keyText: String {
        keys.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.jsonText)" }.joined(separator: ", ")
    }

    /// The listing's columns.
    static let tableHeader = ["ID", "DEFINITION", "STATUS", "WAITING FOR", "KEYS", "LOCKED BY", "UPDATED"]

    var tableRow: [String] {
        let waiting = stateError != nil ? "(state unreadable)" : bookmarks.map(\.operation).joined(separator: ",")
        return [
            id, "\(definition.name)@\(definition.version)", statusText, waiting.isEmpty ? "-" : waiting,
            keyText.isEmpty ? "-" : keyText, lockText, updatedAt ?? "-",
        ]
    }

    /// Every field, one per line, for `wf show`.
    var detailText: String {
        var lines: [(String, String)] = [
            ("id", id),
            ("definition", "\(definition.name) version \(definition.version) (fingerprint \(definition.fingerprint))"),
            ("status", statusText),
            ("version", version.map(String.init) ?? "- (deleted by the completion action)"),
            ("created", createdAt ?? "-"),
            ("updated", updatedAt ?? "-"),
        ]
        if let lockOwner {
            let state = lockOwner.expired ? "expired at" : "until"
            lines.append(("locked by", "\(lockOwner.hostID) (owner \(lockOwner.ownerID)) \(state) \(lockOwner.until)"))
        } else {
            lines.append(("locked by", "-"))
        }
        lines.append(("keys", keyText.isEmpty ? "-" : keyText))
        let bookmarkText = bookmarks.map { bookmark in
            bookmark.correlateOn.map { "\(bookmark.operation) (correlates on \($0))" } ?? bookmark.operation
        }
        lines.append(("waiting for", bookmarkText.isEmpty ? "-" : bookmarkText.joined(separator: ", ")))
        lines.append(("next timer", nextTimer ?? "-"))
        if let blocked { lines.append(("blocked", blocked)) }
        if let fault {
            lines.append(("fault", fault.activityPath.map { "\(fault.message) (at \($0))" } ?? fault.message))
        }
        if let terminationReason { lines.append(("reason", terminationReason)) }
        if !promotedProperties.isEmpty {
            let text = promotedProperties.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            lines.append(("promoted", text.joined(separator: ", ")))
        }
        if let unreadable { lines.append(("unreadable", unreadable)) }
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
