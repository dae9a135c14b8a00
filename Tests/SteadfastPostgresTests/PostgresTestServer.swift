import Foundation
import SteadfastStore
import Testing

@testable import SteadfastPostgres

/// The PostgreSQL server the tests use: `STEADFAST_TEST_POSTGRES` (a URL to a database on a
/// server where the tests may create databases), set by `scripts/test`, which starts one. Without
/// it the PostgreSQL tests are skipped, unless `CI=true`, where they fail.
enum PostgresTestServer {
    static let url: String? = {
        let value = ProcessInfo.processInfo.environment["STEADFAST_TEST_POSTGRES"] ?? ""
        return value.isEmpty ? nil : value
    }()

    /// The server's data folder (`scripts/postgres restart` takes it), when the tests own it.
    static let directory: String? = ProcessInfo.processInfo.environment["STEADFAST_TEST_POSTGRES_DIR"]

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Whether the PostgreSQL tests run: with a server; without one, they are skipped — except
    /// under CI, where they run and fail.
    static var enabled: Bool { url != nil || isCI }

    static func requireURL() throws -> String {
        guard let url else {
            throw InstanceStoreError(
                .storeUnavailable,
                "CI=true but STEADFAST_TEST_POSTGRES is not set: run the tests with scripts/test, which starts a "
                    + "PostgreSQL server.")
        }
        return url
    }

    /// A URL naming `database` on the test server.
    static func url(database: String) throws -> String {
        let base = try requireURL()
        guard var components = URLComponents(string: base) else {
            throw InstanceStoreError(.invalidStoreURL, "STEADFAST_TEST_POSTGRES is not a URL: \(base)")
        }
        components.path = "/" + database
        return components.string ?? base
    }

    /// Runs SQL on the server's maintenance database (CREATE / DROP DATABASE).
    static func admin(_ sql: String) throws {
        let connection = try PostgresConnection(conninfo: try requireURL())
        defer { connection.close() }
        try connection.executeScript(sql)
    }

    /// Creates an empty database with a fresh name; returns its URL.
    static func createDatabase() throws -> (name: String, url: String) {
        let name = "steadfast_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try admin("CREATE DATABASE \(name)")
        return (name, try url(database: name))
    }

    static func dropDatabase(_ name: String) {
        try? admin("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}
