import Foundation
import SteadfastStore

/// The SQLite schema: the forward-only migrations of `Schemas/sqlite/`, applied at open inside
/// one `BEGIN IMMEDIATE` transaction (so concurrent openers apply each migration once).
enum SQLiteSchema {
    static let migrations = SchemaMigrations(database: "SQLite", migrations: embeddedMigrations)

    /// The newest schema version this build knows.
    static var latestVersion: Int { migrations.latestVersion }

    @discardableResult
    static func migrate(_ db: any SQLSession, now: Date) throws -> [Int] {
        try migrations.migrate(db, now: now, begin: ["BEGIN IMMEDIATE"])
    }

    static func appliedVersions(_ db: any SQLSession) throws -> [Int] { try migrations.appliedVersions(db) }
}
