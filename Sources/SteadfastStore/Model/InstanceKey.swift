import SteadfastCore

/// A correlation key (e.g. `orderId = 42`). A key belongs to at most one instance in the store.
///
/// The value is kept as compact JSON, so it keeps its type: the number `5` and the string `"5"`
/// are different keys.
public struct InstanceKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    /// The key's value as compact JSON text (`42`, `"A-7"`).
    public var value: String

    /// A key whose value is already JSON text (as stored).
    public init(name: String, jsonValue: String) {
        self.name = name
        self.value = jsonValue
    }

    public init(name: String, value: JSONValue) {
        self.init(name: name, jsonValue: value.jsonText)
    }

    /// The value, decoded (a stored text that is not JSON is taken as a string).
    public var decodedValue: JSONValue {
        (try? JSONValue.parse(value, what: "the key")) ?? .string(value)
    }

    public var description: String { "\(name)=\(value)" }
}
