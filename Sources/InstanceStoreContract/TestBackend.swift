import Foundation
import Testing

/// The stores tests above the store run on: SQLite always, PostgreSQL when the test server is
/// configured (and always under CI, where a server that cannot start fails the test).
public enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    public static var available: [TestBackend] { PostgresTestServer.enabled ? allCases : [.sqlite] }
    public var testDescription: String { rawValue }

    /// The URL of a fresh, empty store, and what removes it.
    public func freshStore() throws -> (url: String, remove: @Sendable () -> Void) {
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-\(UUID()).db").path
            return (
                "sqlite:\(path)",
                { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            )
        case .postgres:
            let (name, url) = try PostgresTestServer.createDatabase()
            return (url, { PostgresTestServer.dropDatabase(name) })
        }
    }
}
