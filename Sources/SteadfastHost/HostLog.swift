import Logging
import SteadfastCore

extension HostEvent {
    /// The instance the event is about (nil for a failed detection round).
    public var instance: String? {
        switch self {
        case .line(let id, _), .started(let id), .loaded(let id), .persisted(let id, _), .unloaded(let id, _),
            .finished(let id, _), .faulted(let id, _), .abandoned(let id, _), .rejected(let id, _, _),
            .blocked(let id, _):
            id
        case .detectionFailed: nil
        }
    }

    /// How the event is logged: `persisted` is `debug` (a served host saves at every idle
    /// point); the rest `info` and up.
    public var logLevel: Logger.Level {
        switch self {
        case .persisted: .debug
        case .line, .started, .loaded, .unloaded: .info
        case .finished(_, let state): state.status == .completed ? .info : .warning
        case .abandoned, .rejected, .blocked: .warning
        case .faulted, .detectionFailed: .error
        }
    }

    /// The event for people.
    public var logMessage: String {
        switch self {
        case .line(_, let text): text
        case .faulted(_, let reason): "faulted: \(reason)"
        case .abandoned(_, let reason): "stopped working on the instance: \(reason)"
        case .rejected(_, let entry, let reason): "inbox entry \(entry) rejected: \(reason)"
        case .blocked(_, let reason): "blocked: \(reason)"
        case .detectionFailed(let reason): "runnable-instance detection failed: \(reason)"
        case .unloaded(_, let next): "saved and unloaded" + (next.map { "; next timer at \($0)" } ?? "")
        case .started: "started"
        case .loaded: "loaded"
        case .persisted(_, let version): "saved (version \(version))"
        case .finished(_, let state):
            state.status.rawValue + ((state.fault?.message ?? state.terminationReason).map { ": \($0)" } ?? "")
        }
    }
}

extension HostEvent {
    /// The event's name, as the `event` key of its log entry: `started`, `line`, `finished`, …
    public var name: String {
        switch self {
        case .line: "line"
        case .started: "started"
        case .loaded: "loaded"
        case .persisted: "persisted"
        case .unloaded: "unloaded"
        case .finished: "finished"
        case .faulted: "faulted"
        case .abandoned: "abandoned"
        case .rejected: "rejected"
        case .blocked: "blocked"
        case .detectionFailed: "detection-failed"
        }
    }
}

extension Logger {
    /// Logs a host event with its name, the instance and its definition (name and version) as metadata;
    /// the host's own id is already in the logger's metadata.
    func log(_ event: HostEvent, definition: DefinitionIdentity?) {
        let level = event.logLevel
        guard level >= logLevel else { return }  // nothing is formatted for a level left out
        var metadata: Logger.Metadata = ["event": .string(event.name)]
        if let instance = event.instance { metadata["instance"] = .string(instance) }
        if let definition {
            metadata["definition"] = .string(definition.name)
            metadata["definition_version"] = .string(definition.version)
        }
        log(level: level, "\(event.logMessage)", metadata: metadata)
    }
}
