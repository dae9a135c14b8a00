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

    /// The server's data folder (`scripts/postgres restart` takes it), when the tests own it.
    public static let directory: String? = ProcessInfo.processInfo.environment["STEADFAST_TEST_POSTGRES_DIR"]

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

extension PostgresTestServer {
    /// Restarts the test server (`pg_ctl restart -m fast`, through `scripts/postgres`): every
    /// connection to it is cut.
    public static func restart() throws {
        guard let directory else {
            throw InstanceStoreError(
                .storeUnavailable,
                "STEADFAST_TEST_POSTGRES_DIR is not set: only a server scripts/test started "
                    + "can be restarted.")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/postgres")
        // system(3) waits for its own child; Foundation's Process, started off the main thread,
        // was seen never to reap this one (its terminationHandler never ran).
        let command = "'\(script.path)' restart '\(directory)' >/dev/null"
        let status = system(command)
        guard status == 0 else {
            throw InstanceStoreError(.storeUnavailable, "scripts/postgres restart exited \(status)")
        }
    }
}
