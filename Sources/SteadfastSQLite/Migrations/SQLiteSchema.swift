import Foundation
import SteadfastStore

/// The SQLite schema: the forward-only migrations of `Schemas/sqlite/`, applied at open.
enum SQLiteSchema {
    /// The newest schema version this build knows.
    static var latestVersion: Int { embeddedMigrations.last?.version ?? 0 }

    /// Applies every migration newer than the database's version, all in one `BEGIN IMMEDIATE`
    /// transaction (so concurrent openers apply each migration once), recording each in
    /// `schema_migrations`. Returns the versions it applied.
    @discardableResult
    static func migrate(_ db: any SQLSession, now: Date) throws -> [Int] {
        do {
            try db.executeScript("BEGIN IMMEDIATE")
        } catch let error as SQLDriverError {
            throw failure("could not start the migration transaction: \(error.message)")
        }
        do {
            try db.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    applied_at INTEGER NOT NULL
                )
                """
            )
            let current =
                try db.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [])
                .first.map { row -> Int64 in
                    if case .integer(let version) = row[0] { return version }
                    return 0
                } ?? 0
            guard current <= latestVersion else {
                throw failure(
                    "the database is at schema version \(current), newer than this build's "
                        + "\(latestVersion); upgrade Steadfast before opening it"
                )
            }
            var applied: [Int] = []
            for migration in embeddedMigrations where migration.version > current {
                try db.executeScript(migration.sql)
                try db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [
                        .integer(Int64(migration.version)), .text(migration.name),
                        .integer(Int64(now.timeIntervalSince1970 * 1000)),
                    ]
                )
                applied.append(migration.version)
            }
            try db.executeScript("COMMIT")
            return applied
        } catch {
            try? db.executeScript("ROLLBACK")
            if let error = error as? InstanceStoreError { throw error }
            throw failure("\(error)")
        }
    }

    /// The versions recorded in `schema_migrations`, in order.
    static func appliedVersions(_ db: any SQLSession) throws -> [Int] {
        try db.query("SELECT version FROM schema_migrations ORDER BY version", []).map { row in
            if case .integer(let version) = row[0] { return Int(version) }
            return 0
        }
    }

    static func failure(_ detail: String) -> InstanceStoreError {
        InstanceStoreError(
            .migrationFailed,
            "The SQLite schema migration failed: \(detail). Nothing was changed; fix the cause "
                + "and open the store again."
        )
    }
}
