import Foundation
import SteadfastStore

/// The PostgreSQL schema: the forward-only migrations of `Schemas/postgres/`, applied at open
/// in one transaction under an advisory lock, so hosts that start together apply each
/// migration once and never race on `CREATE TABLE`.
enum PostgresSchema {
    static let migrations = SchemaMigrations(database: "PostgreSQL", migrations: embeddedMigrations)

    /// The newest schema version this build knows.
    static var latestVersion: Int { migrations.latestVersion }

    /// The advisory lock every opener takes around the migration.
    static let advisoryLockKey: Int64 = 0x5374_6561_6466_6173  // "Steadfas"

    @discardableResult
    static func migrate(_ db: any SQLSession, now: Date) throws -> [Int] {
        try migrations.migrate(db, now: now, begin: ["BEGIN", "SELECT pg_advisory_xact_lock(\(advisoryLockKey))"])
    }

    static func appliedVersions(_ db: any SQLConnection) throws -> [Int] { try migrations.appliedVersions(db) }
}
