/// A JSON value: the only kind of data a workflow's variables, messages and expressions hold.
///
/// Numbers are IEEE doubles, as in JSON itself; integral numbers print without a fraction.
/// Object keys are unordered, but every encoding and printing sorts them, so the same value
/// always has the same bytes.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The name of this value's type, as error messages say it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Truthiness, as conditions see it: `null`, `false`, `0`, `""` are false; everything else is true.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let value): value
        case .number(let value): value != 0
        case .string(let value): !value.isEmpty
        case .array, .object: true
        }
    }

    /// The value of `field` if this is an object holding it.
    public subscript(field: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[field] }
        return nil
    }

    /// The text `string(x)` gives: strings as they are, everything else as compact JSON.
    public var text: String {
        if case .string(let value) = self { return value }
        return jsonText
    }

    /// Compact JSON with sorted object keys.
    public var jsonText: String {
        var output = ""
        write(to: &output)
        return output
    }

    /// ``text``, refused past `limit` bytes while it is being written: arrays that share their
    /// items cost little in memory but may be enormous as text.
    func text(limit: Int) throws(ExpressionError) -> String {
        if case .string(let value) = self { return value }
        var output = ""
        do {
            try write(to: &output, limit: limit)
        } catch {
            throw ExpressionError("the \(typeName) is more than \(limit) bytes as text")
        }
        return output
    }

    /// Thrown by ``write(to:limit:)`` once the output passes its limit.
    struct OutputLimitExceeded: Error {}

    func write(to output: inout String) {
        try? write(to: &output, limit: .max)  // no limit: never thrown
    }

    /// Appends the value as JSON, stopping with ``OutputLimitExceeded`` once `output` is longer
    /// than `limit` bytes (checked after each item, so it never grows far past it).
    func write(to output: inout String, limit: Int) throws(OutputLimitExceeded) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let value): output += Self.format(value)
        case .string(let value): Self.writeQuoted(value, to: &output)
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                try item.write(to: &output, limit: limit)
            }
            output += "]"
        case .object(let fields) where fields.count == 1:
            // The common small case, without sorting the keys into a new array.
            let (key, value) = fields.first!
            output += "{"
            Self.writeQuoted(key, to: &output)
            output += ":"
            try value.write(to: &output, limit: limit)
            output += "}"
        case .object(let fields):
            output += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                Self.writeQuoted(key, to: &output)
                output += ":"
                try fields[key, default: .null].write(to: &output, limit: limit)
            }
            output += "}"
        }
        guard output.utf8.count <= limit else { throw OutputLimitExceeded() }
    }

    /// Formats a number the way JSON and `string()` show it: `42`, not `42.0`.
    static func format(_ value: Double) -> String {
        if let integer = exactInteger(value) { return String(integer) }
        return "\(value)"
    }

    /// The value as an Int64 when it is integral and exactly representable.
    static func exactInteger(_ value: Double) -> Int64? {
        guard value.isFinite, value.rounded() == value, abs(value) < 9_007_199_254_740_992 else { return nil }
        return Int64(value)
    }

    static func writeQuoted(_ value: String, to output: inout String) {
        output += "\""
        // Most strings need no escape: appended whole, not scalar by scalar.
        func needsEscape(_ byte: UInt8) -> Bool {
            byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
        }
        let escapes =
            value.utf8.withContiguousStorageIfAvailable { bytes in bytes.contains(where: needsEscape) }
            ?? value.utf8.contains(where: needsEscape)
        guard escapes else {
            output += value
            output += "\""
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { jsonText }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
