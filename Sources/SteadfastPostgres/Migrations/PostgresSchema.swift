import Foundation
import SteadfastStore

/// The PostgreSQL schema: the forward-only migrations of `Schemas/postgres/`, applied at open.
enum PostgresSchema {
    /// The newest schema version this build knows.
    static var latestVersion: Int { embeddedMigrations.last?.version ?? 0 }

    /// The advisory lock every opener takes around the migration, so hosts that start together
    /// apply each migration once and never race on `CREATE TABLE`.
    static let advisoryLockKey: Int64 = 0x5374_6561_6466_6173  // "Steadfas"

    /// Applies every migration newer than the database's version in one transaction, under the
    /// advisory lock, recording each in `schema_migrations`. Returns the versions it applied.
    /// A database newer than this build is refused.
    @discardableResult
    static func migrate(_ db: any SQLSession, now: Date) throws -> [Int] {
        do {
            try db.executeScript("BEGIN")
            try db.executeScript("SELECT pg_advisory_xact_lock(\(advisoryLockKey))")
            try db.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """
            )
            let current = try appliedVersions(db).last ?? 0
            guard current <= latestVersion else {
                throw failure(
                    "the database is at schema version \(current), newer than this build's \(latestVersion); "
                        + "upgrade Steadfast before opening it")
            }
            var applied: [Int] = []
            for migration in embeddedMigrations where migration.version > current {
                try db.executeScript(migration.sql)
                try db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [
                        .integer(Int64(migration.version)), .text(migration.name),
                        .integer(Int64(now.timeIntervalSince1970 * 1000)),
                    ])
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
    static func appliedVersions(_ db: any SQLConnection) throws -> [Int] {
        try db.query("SELECT version FROM schema_migrations ORDER BY version", []).map { row in
            if case .integer(let version) = row[0] { return Int(version) }
            return 0
        }
    }

    static func failure(_ detail: String) -> InstanceStoreError {
        InstanceStoreError(
            .migrationFailed,
            "The PostgreSQL schema migration failed: \(detail). Nothing was changed; fix the cause and open the "
                + "store again.")
    }
}
