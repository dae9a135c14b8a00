import Foundation

/// Where a store lives, parsed from a store URL:
/// `sqlite:PATH` (relative or absolute path), `sqlite::memory:` (a private in-memory
/// database, for tests), `postgres://…` / `postgresql://…` (a libpq connection URI).
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteMemory
    case postgres(uri: String)

    public init(parsing url: String) throws {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        for scheme in ["postgres://", "postgresql://"] where trimmed.hasPrefix(scheme) {
            guard trimmed.count > scheme.count else {
                throw Self.invalid(url, "the PostgreSQL URI names no server or database")
            }
            self = .postgres(uri: trimmed)
            return
        }
        guard trimmed.hasPrefix("sqlite:") else {
            throw Self.invalid(url, "it does not start with 'sqlite:' or 'postgres://'")
        }
        let path = String(trimmed.dropFirst("sqlite:".count))
        if path == ":memory:" {
            self = .sqliteMemory
            return
        }
        guard !path.isEmpty else { throw Self.invalid(url, "the path after 'sqlite:' is empty") }
        guard !path.hasPrefix("//") else {
            throw Self.invalid(url, "write 'sqlite:/abs/path' or 'sqlite:rel/path', not 'sqlite://'")
        }
        guard !path.hasSuffix("/") else { throw Self.invalid(url, "the path names a directory, not a file") }
        guard !path.contains("\0") else { throw Self.invalid(url, "the path contains a NUL byte") }
        self = .sqliteFile(path: path)
    }

    public var description: String {
        switch self {
        case .sqliteFile(let path): "sqlite:\(path)"
        case .sqliteMemory: "sqlite::memory:"
        case .postgres(let uri): uri
        }
    }

    static func invalid(_ url: String, _ reason: String) -> InstanceStoreError {
        InstanceStoreError(
            .invalidStoreURL,
            "The store URL '\(url)' is not valid: \(reason). Use 'sqlite:PATH', e.g. "
                + "sqlite:steadfast.db or sqlite:/var/lib/steadfast/instances.db."
        )
    }
}
