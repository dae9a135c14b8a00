/// A correlation key (e.g. `orderId = 42`). A key belongs to at most one instance in the store.
public struct InstanceKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name)=\(value)" }
}
