import Foundation
import SteadfastPostgres
import SteadfastStore

/// The PostgreSQL server the tests use: `STEADFAST_TEST_POSTGRES` (a URL to a database on a
/// server where the tests may create databases), set by `scripts/test`, which starts one. Without
/// it the PostgreSQL tests are skipped, unless `CI=true`, where they fail.
public enum PostgresTestServer {
    public static let url: String? = {
        let value = ProcessInfo.processInfo.environment["STEADFAST_TEST_POSTGRES"] ?? ""
        return value.isEmpty ? nil : value
    }()

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether the PostgreSQL tests run: with a server; without one, they are skipped — except
    /// under CI, where they run and fail.
    public static var enabled: Bool { url != nil || isCI }

    public static func requireURL() throws -> String {
        guard let url else {
            throw InstanceStoreError(
                .storeUnavailable,
                "CI=true but STEADFAST_TEST_POSTGRES is not set: run the tests with scripts/test, which starts a "
                    + "PostgreSQL server.")
        }
        return url
    }

    /// A URL naming `database` on the test server.
    public static func url(database: String) throws -> String {
        let base = try requireURL()
        guard var components = URLComponents(string: base) else {
            throw InstanceStoreError(.invalidStoreURL, "STEADFAST_TEST_POSTGRES is not a URL: \(base)")
        }
        components.path = "/" + database
        return components.string ?? base
    }

    /// Creates an empty database with a fresh name; returns its URL.
    public static func createDatabase() throws -> (name: String, url: String) {
        let name = "steadfast_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresDatabases.create(name, server: try requireURL())
        return (name, try url(database: name))
    }

    public static func dropDatabase(_ name: String) {
        try? PostgresDatabases.drop(name, server: try requireURL())
    }
}

/// A PostgreSQL server of one test's own (`scripts/postgres start` in a new folder), for tests
/// that restart it: restarting the shared server would cut every other test's connections.
public final class PrivatePostgresServer: Sendable {
    public let directory: String
    public let url: String

    private static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/postgres").path

    public init() throws {
        directory =
            FileManager.default.temporaryDirectory.appendingPathComponent(
                "steadfast-pg-private-\(UUID().uuidString.prefix(8))"
            ).path
        let urlFile = directory + ".url"
        defer { try? FileManager.default.removeItem(atPath: urlFile) }
        try Self.run("'\(Self.script)' start '\(directory)' > '\(urlFile)'")
        url = try String(contentsOfFile: urlFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `pg_ctl restart -m fast`: every connection to it is cut; same port, same data.
    public func restart() throws {
        try Self.run("'\(Self.script)' restart '\(directory)' >/dev/null")
    }

    /// Stops the server and deletes its folder.
    public func stop() {
        try? Self.run("'\(Self.script)' stop '\(directory)' >/dev/null 2>&1")
    }

    /// A URL naming a new, empty database on this server.
    public func createDatabase() throws -> String {
        let name = "steadfast_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresDatabases.create(name, server: url)
        guard var components = URLComponents(string: url) else { return url }
        components.path = "/" + name
        return components.string ?? url
    }

    /// system(3) waits for its own child; Foundation's Process, started off the main thread,
    /// was seen never to reap `scripts/postgres` (its terminationHandler never ran).
    private static func run(_ command: String) throws {
        let status = system(command)
        guard status == 0 else {
            throw InstanceStoreError(.storeUnavailable, "'\(command)' failed (status \(status))")
        }
    }
}
