import Foundation

/// Forward-only schema migrations (`Schemas/<database>/NNNN_name.sql`, embedded in the
/// binary), applied in one transaction and recorded in `schema_migrations`; a database whose
/// schema is newer than the binary is refused. Each store says how its transaction starts.
public struct SchemaMigrations: Sendable {
    public typealias Migration = (version: Int, name: String, sql: String)

    /// The database's name in messages ("SQLite", "PostgreSQL").
    public var database: String
    public var migrations: [Migration]

    public init(database: String, migrations: [Migration]) {
        self.database = database
        self.migrations = migrations
    }

    /// The newest schema version this build knows.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Applies every migration newer than the database's version inside one transaction that
    /// `begin` starts (and, for a server, an advisory lock it takes), so concurrent openers apply
    /// each migration once. Returns the versions it applied.
    @discardableResult
    public func migrate(_ db: any SQLSession, now: Date, begin: [String]) throws -> [Int] {
        do {
            for statement in begin { try db.executeScript(statement) }
            try db.executeScript(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL
                )
                """)
            let current = try appliedVersions(db).last ?? 0
            guard current <= latestVersion else {
                throw failure(
                    "the database is at schema version \(current), newer than this build's \(latestVersion); "
                        + "upgrade Steadfast before opening it")
            }
            var applied: [Int] = []
            for migration in migrations where migration.version > current {
                try db.executeScript(migration.sql)
                try db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [.integer(Int64(migration.version)), .text(migration.name), .time(now)])
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
    public func appliedVersions(_ db: any SQLConnection) throws -> [Int] {
        try db.query("SELECT version FROM schema_migrations ORDER BY version", []).map { row in
            if case .integer(let version) = row[0] { return Int(version) }
            return 0
        }
    }

    func failure(_ detail: String) -> InstanceStoreError {
        InstanceStoreError(
            .migrationFailed,
            "The \(database) schema migration failed: \(detail). Nothing was changed; fix the cause and open the "
                + "store again.")
    }
}
