/// Custom activities written in Swift, by the name that `invoke` activities call them.
///
/// A synchronous activity runs inside the interpreter. An asynchronous one is started by the
/// host; the instance is in a no-persist zone until its result is delivered, and the result is
/// recorded in the instance state, so it never runs again once persisted.
public struct ActivityRegistry: Sendable {
    public typealias SyncBody = @Sendable (JSONValue) throws -> JSONValue
    public typealias AsyncBody = @Sendable (JSONValue) async throws -> JSONValue

    public enum Entry: Sendable {
        case sync(SyncBody)
        case async(AsyncBody)
    }

    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    public mutating func register(_ name: String, _ body: @escaping SyncBody) {
        entries[name] = .sync(body)
    }

    public mutating func registerAsync(_ name: String, _ body: @escaping AsyncBody) {
        entries[name] = .async(body)
    }

    public subscript(name: String) -> Entry? { entries[name] }

    public var names: [String] { entries.keys.sorted() }

    /// This registry with `other`'s entries added; `other` wins on a clash.
    public func merging(_ other: ActivityRegistry) -> ActivityRegistry {
        var merged = self
        merged.entries.merge(other.entries) { _, new in new }
        return merged
    }
}

/// The error a custom activity may throw to fault the invoking activity with a clear message.
public struct InvokeError: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
