import Foundation

/// The status of a workflow instance.
public enum InstanceStatus: String, Hashable, Sendable, Codable, CaseIterable {
    /// Has work to do now: not started, a persist point waiting for a save, or an async call out.
    case running
    /// Waiting only for messages or timers.
    case idle
    case completed
    case faulted
    case canceled
    case terminated

    /// Whether the instance has ended and will never run again.
    public var isFinal: Bool {
        switch self {
        case .running, .idle: false
        case .completed, .faulted, .canceled, .terminated: true
        }
    }

    /// The statuses of instances that have ended.
    public static let finished: Set<InstanceStatus> = [.completed, .faulted, .canceled, .terminated]
}

/// An open bookmark: the instance waits for a message for `operation`.
public struct Bookmark: Hashable, Sendable, Codable {
    public var operation: String
    /// The correlation key the message is routed by, if any.
    public var correlateOn: String?
    /// Whether a message for this operation may create a new instance.
    public var createsInstance: Bool
    public var activityPath: String
}

/// A pending durable timer.
public struct PendingTimer: Hashable, Sendable, Codable {
    public var due: Instant
    public var activityPath: String
}

/// Everything about an instance that survives a restart, serializable at every idle point and
/// at every persist point: variable values, the position and state of every running activity,
/// open bookmarks, pending timers with their due times, correlation keys, the definition's
/// identity and the instance's status.
///
/// `bookmarks`, `timers`, `keys`, `persistPending` and `canPersist` are derived from the
/// frames and variables; they are stored so a reader needs no definition, and checked on load.
public struct InstanceState: Hashable, Sendable, Codable {
    /// The version of this encoding; loading refuses formats it does not know.
    public static let currentFormat = 1

    public var format: Int
    public var instanceID: String
    public var definition: DefinitionIdentity
    public var status: InstanceStatus
    public var variables: [String: JSONValue]
    /// The correlation keys: the definition's key variables that hold a value.
    public var keys: [String: JSONValue]
    public var bookmarks: [Bookmark]
    public var timers: [PendingTimer]
    /// The running activities; nil before the first run and after the instance ended.
    public var execution: Frame?
    public var started: Bool
    /// Whether a persist point waits for the host to save.
    public var persistPending: Bool
    /// False inside a noPersist scope or while an async custom activity runs.
    public var canPersist: Bool
    public var nextCallID: Int
    public var fault: WorkflowFault?
    public var terminationReason: String?

    /// The earliest pending timer's due time.
    public var nextTimer: Instant? { timers.map(\.due).min() }

    /// The state as compact JSON with sorted keys: the same state always gives the same bytes.
    /// Written directly (see ``StateWriter``) in the shape the synthesized `Decodable` reads:
    /// Foundation's encoder costs several times more, on every save.
    ///
    /// A state that nests deeper than ``WorkflowLimits/maxStateDepth`` is refused here, with
    /// the same check ``decode(_:)`` makes, so a save never writes what a load would refuse.
    public func encoded() throws(WorkflowError) -> Data {
        var writer = StateWriter()
        do {
            try writer.write(self)
        } catch {
            throw WorkflowError(
                .stateTooLarge,
                "the instance state is more than \(WorkflowLimits.maxStateBytes) bytes as JSON: it is not saved "
                    + "(keep less in its variables)")
        }
        let data = Data(writer.output.utf8)
        try Self.checkDepth(data, writing: true)
        return data
    }

    /// Refuses an encoded state nesting deeper than ``WorkflowLimits/maxStateDepth``, by one
    /// pass over its bytes (no recursion).
    static func checkDepth(_ data: Data, writing: Bool) throws(WorkflowError) {
        // Over the raw bytes: Data's iterator costs a call per byte, on every save.
        let deepest = data.withUnsafeBytes { bytes in
            var depth = 0
            var deepest = 0
            var inString = false
            var escaped = false
            for byte in bytes {
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"):
                    depth += 1
                    deepest = max(deepest, depth)
                case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
                default: break
                }
            }
            return deepest
        }
        guard deepest > WorkflowLimits.maxStateDepth else { return }
        throw WorkflowError(
            writing ? .stateTooLarge : .corruptState,
            "the instance state nests \(deepest) levels deep; the limit is \(WorkflowLimits.maxStateDepth)"
                + (writing
                    ? ": it is not saved (keep variables and messages flatter)"
                    : ": it was not written by this engine's limits; repair or delete the instance"))
    }

    /// Decodes a state written by ``encoded()``. A corrupt or truncated state gives a
    /// `corruptState` error naming the problem; it never crashes.
    public static func decode(_ data: Data) throws(WorkflowError) -> InstanceState {
        try checkDepth(data, writing: false)
        let state: InstanceState
        do {
            state = try JSONDecoder().decode(InstanceState.self, from: data)
        } catch {
            if let format = try? JSONDecoder().decode(FormatProbe.self, from: data).format, format != currentFormat {
                throw WorkflowError(
                    .unsupportedStateFormat,
                    "the state was written in format \(format); this build reads format \(currentFormat): upgrade Steadfast"
                )
            }
            throw WorkflowError(
                .corruptState,
                "the instance state cannot be decoded (\(data.count) bytes): \(JSONValue.describe(error))")
        }
        guard state.format == currentFormat else {
            throw WorkflowError(
                .unsupportedStateFormat,
                "the state was written in format \(state.format); this build reads format \(currentFormat): upgrade Steadfast"
            )
        }
        return state
    }

    private struct FormatProbe: Decodable {
        var format: Int
    }
}

extension InstanceState {
    /// This state ended from outside (an operator's cancel or terminate) without its
    /// definition: every running activity stops, bookmarks and timers go with them.
    /// A state that already ended is returned unchanged.
    public func ended(as status: InstanceStatus, reason: String?) -> InstanceState {
        guard !self.status.isFinal, status.isFinal else { return self }
        var ended = self
        ended.status = status
        ended.terminationReason = reason
        ended.execution = nil
        ended.bookmarks = []
        ended.timers = []
        ended.persistPending = false
        ended.canPersist = true
        ended.started = true
        return ended
    }
}
