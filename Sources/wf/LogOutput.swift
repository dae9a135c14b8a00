import ArgumentParser
import Foundation
import Logging
import SteadfastApplication
import SteadfastCore

/// How log lines are written on stderr: `text` for people, `json` for log collectors.
enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// `wf`'s swift-log handler: one line per entry on stderr (stdout is kept for results).
/// - text: `[TIME ]LEVEL: [instance] message` — the level only for warnings and errors, the
///   instance as its first 8 characters;
/// - json: one object per line with `time`, `level`, `message`, `label` and every metadata key
///   (`host`, `instance`, `definition`, …).
struct StderrLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    let timestamps: Bool
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        if let error = event.error { all["error"] = .string("\(error)") }
        let time = InstanceView.iso8601(Date())
        switch format {
        case .json:
            var object: [String: JSONValue] = all.mapValues(Self.json)
            object["time"] = .string(time)
            object["level"] = .string(event.level.rawValue)
            object["message"] = .string(event.message.description)
            object["label"] = .string(label)
            printError(JSONValue.object(object).jsonText)
        case .text:
            var line = timestamps ? "\(time) " : ""
            if event.level >= .warning { line += "\(event.level.rawValue): " }
            if case .string(let instance) = all["instance"] { line += "[\(instance.prefix(8))] " }
            printError(line + event.message.description)
        }
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value): .string(value.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}

extension Logger {
    /// A logger writing on stderr through ``StderrLogHandler``: `info` and up, `debug` and up
    /// when `verbose`.
    static func wf(
        _ label: String = "steadfast", format: LogFormat = .text, timestamps: Bool = false, verbose: Bool = false
    ) -> Logger {
        var logger = Logger(label: label) { label in
            StderrLogHandler(label: label, format: format, timestamps: timestamps)
        }
        logger.logLevel = verbose ? .debug : .info
        return logger
    }
}
