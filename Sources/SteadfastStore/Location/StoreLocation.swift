import Foundation

/// Where a store lives, parsed from a store URL:
/// `sqlite:PATH` (relative or absolute path), `sqlite::memory:` (a private in-memory
/// database, for tests), `postgres://…` / `postgresql://…` (a libpq connection URI), or
/// `postgres:KEY=VALUE …` (a libpq keyword/value connection string, e.g.
/// `postgres:service=steadfast` or `postgres:host=/run/postgresql dbname=wf`).
///
/// Its description never shows a password.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqliteFile(path: String)
    case sqliteMemory
    /// `conninfo` is what libpq is given: the URI, or the keyword/value string.
    case postgres(conninfo: String)

    public init(parsing url: String) throws {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        for scheme in ["postgres://", "postgresql://"] where trimmed.hasPrefix(scheme) {
            guard trimmed.count > scheme.count else {
                throw Self.invalid(url, "the PostgreSQL URI names no server or database")
            }
            self = .postgres(conninfo: trimmed)
            return
        }
        if let prefix = ["postgres:", "postgresql:"].first(where: trimmed.hasPrefix) {
            let conninfo = String(trimmed.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            guard conninfo.contains("=") else {
                throw Self.invalid(
                    url, "after 'postgres:' comes a libpq connection string such as 'host=/run/postgresql dbname=wf'")
            }
            self = .postgres(conninfo: conninfo)
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
        case .postgres(let conninfo):
            conninfo.contains("://") ? Self.redactedURI(conninfo) : "postgres:" + Self.redactedKeywords(conninfo)
        }
    }

    static func invalid(_ url: String, _ reason: String) -> InstanceStoreError {
        InstanceStoreError(
            .invalidStoreURL,
            "The store URL '\(redacted(url))' is not valid: \(reason). Use 'sqlite:PATH', e.g. "
                + "sqlite:steadfast.db or sqlite:/var/lib/steadfast/instances.db, or 'postgres://USER@HOST/DATABASE'."
        )
    }

    /// A store URL as it may be shown: a PostgreSQL password replaced by `***`.
    public static func redacted(_ url: String) -> String {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") { return redactedURI(trimmed) }
        if trimmed.hasPrefix("postgres:") || trimmed.hasPrefix("postgresql:") { return redactedKeywords(trimmed) }
        return url
    }

    /// `postgres://user:secret@host/db?password=x` → `postgres://user:***@host/db?password=***`.
    static func redactedURI(_ uri: String) -> String {
        var text = uri
        if let schemeEnd = text.range(of: "://") {
            // As libpq reads it: the user part ends at the last '@' before the first '/'.
            let rest = text[schemeEnd.upperBound...]
            let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[..<authorityEnd].lastIndex(of: "@"),
                let colon = rest[..<at].firstIndex(of: ":")
            {
                text.replaceSubrange(text.index(after: colon)..<at, with: "***")
            }
        }
        return text.replacingOccurrences(
            of: #"([?&](ssl)?password=)[^&]*"#, with: "$1***", options: [.regularExpression, .caseInsensitive])
    }

    /// `host=h password=secret` or `password='a b'` → `password=***`.
    static func redactedKeywords(_ conninfo: String) -> String {
        conninfo.replacingOccurrences(
            of: #"((ssl)?password\s*=\s*)('(\\.|[^'])*'|(\\.|\S)*)"#, with: "$1***",
            options: [.regularExpression, .caseInsensitive])
    }

    /// `text` (a driver's message) with this location's passwords replaced by `***`: libpq
    /// repeats a value it cannot parse, which may be the password.
    public func scrubbed(_ text: String) -> String {
        guard case .postgres(let conninfo) = self else { return text }
        let patterns = [
            #"://[^/]*?:([^/]*)@"#, #"[?&](?:ssl)?password=([^&]*)"#,
            #"(?:ssl)?password\s*=\s*('(?:\\.|[^'])*'|(?:\\.|\S)*)"#,
        ]
        var secrets: [String] = []
        for pattern in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else {
                continue
            }
            for match in expression.matches(in: conninfo, range: NSRange(conninfo.startIndex..., in: conninfo)) {
                guard let found = Range(match.range(at: 1), in: conninfo), !conninfo[found].isEmpty else { continue }
                let secret = String(conninfo[found])
                secrets += [secret, secret.removingPercentEncoding ?? secret, secret.trimmingCharacters(in: ["'"])]
            }
        }
        return secrets.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "***") }
    }
}
