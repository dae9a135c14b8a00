import ArgumentParser
import Foundation
import SteadfastApplication
import SteadfastCore
import SteadfastStore

/// Command-line values and their checks: each wrong value is a usage error (exit 64) naming it.
enum Values {
    /// Seconds as a duration: finite, not negative, at most a year.
    static func seconds(_ value: Double, option: String) throws -> Duration {
        guard value.isFinite, value >= 0, value <= 366 * 86_400 else {
            throw ValidationError("\(option) must be a number of seconds from 0 to 31622400 (a year), not \(value).")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// `7d`, `12h`, `30m`, `45s`, or ISO-8601 (`P7D`, `PT12H`).
    static func age(_ text: String, option: String) throws -> Duration {
        if text.uppercased().hasPrefix("P") {
            guard case .success(let duration) = ISODuration.parse(text.uppercased()) else {
                throw ValidationError("\(option) '\(text)' is not a duration: write 7d, 12h, 30m, 45s or P7D.")
            }
            let start = Instant(millisecondsSinceEpoch: 0)
            return .milliseconds(duration.added(to: start).millisecondsSinceEpoch)
        }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        guard let unit = text.last.flatMap({ units[$0] }), let number = Double(text.dropLast()), number.isFinite,
            number >= 0, number * unit <= 100 * 366 * 86_400
        else {
            throw ValidationError("\(option) '\(text)' is not a duration: write 7d, 12h, 30m, 45s or P7D.")
        }
        return .milliseconds(Int64(number * unit * 1000))
    }

    /// An ISO-8601 timestamp (`2026-11-24T08:00:00Z`).
    static func timestamp(_ text: String, option: String) throws -> Date {
        guard let instant = Instant(iso8601: text) else {
            throw ValidationError("\(option) '\(text)' is not an ISO-8601 timestamp such as 2026-11-24T08:00:00Z.")
        }
        return Date(timeIntervalSince1970: instant.secondsSinceEpoch)
    }

    /// `NAME=VALUE`; the value is JSON when it parses as JSON (`42`, `"42"`, `true`), else a string.
    static func keyValue(_ text: String, option: String) throws -> (name: String, value: JSONValue) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("\(option) '\(text)' must be NAME=VALUE, e.g. orderId=42.")
        }
        let raw = String(text[text.index(after: equals)...])
        let value = (try? JSONValue.parse(raw, what: option)) ?? .string(raw)
        return (String(text[..<equals]), value)
    }

    /// A JSON object of variables (`--input`).
    static func object(_ text: String, option: String) throws -> [String: JSONValue] {
        guard case .object(let fields) = try JSONValue.parse(text, what: option) else {
            throw ApplicationError(.invalidInput, "\(option) must be a JSON object, e.g. '{\"records\": 10}'")
        }
        return fields
    }
}

extension InstanceStatus: ExpressibleByArgument {}
extension WaitCondition: ExpressibleByArgument {}
