import Logging
import SteadfastCore

extension HostEvent {
    /// How an event is logged: its level, the instance it is about, and a message for people.
    /// `persisted` is `debug` (a served host saves at every idle point); the rest `info` and up.
    public var logEntry: (level: Logger.Level, instance: String?, message: String) {
        switch self {
        case .line(let id, let text): (.info, id, text)
        case .faulted(let id, let reason): (.error, id, "faulted: \(reason)")
        case .abandoned(let id, let reason): (.warning, id, "stopped working on the instance: \(reason)")
        case .rejected(let id, let entry, let reason): (.warning, id, "inbox entry \(entry) rejected: \(reason)")
        case .blocked(let id, let reason): (.warning, id, "blocked: \(reason)")
        case .detectionFailed(let reason): (.error, nil, "runnable-instance detection failed: \(reason)")
        case .unloaded(let id, let next):
            (.info, id, "saved and unloaded" + (next.map { "; next timer at \($0)" } ?? ""))
        case .started(let id): (.info, id, "started")
        case .loaded(let id): (.info, id, "loaded")
        case .persisted(let id, let version): (.debug, id, "saved (version \(version))")
        case .finished(let id, let state):
            (
                state.status == .completed ? .info : .warning, id,
                state.status.rawValue
                    + ((state.fault?.message ?? state.terminationReason).map { ": \($0)" } ?? "")
            )
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
        let (level, instance, message) = event.logEntry
        guard level >= logLevel else { return }
        var metadata: Logger.Metadata = ["event": .string(event.name)]
        if let instance { metadata["instance"] = .string(instance) }
        if let definition {
            metadata["definition"] = .string(definition.name)
            metadata["definition_version"] = .string(definition.version)
        }
        log(level: level, "\(message)", metadata: metadata)
    }
}
