import Foundation
import SteadfastCore
import SteadfastStore

/// The SQLite instance store: one database file in WAL mode, shared by any number of host
/// processes (the locks in the rows keep two hosts from running one instance).
///
/// All commands run on one dedicated thread per store; writes that arrive together share one
/// transaction and one fsync (group commit), and each caller resumes only once its commit is
/// durable. Call `close()` when done (dropping the store also stops its thread).
public final class SQLiteInstanceStore: SQLBackedStore {
    public let location: StoreLocation
    public let options: InstanceStoreOptions
    public let sqliteOptions: SQLiteStoreOptions
    public let commands: SQLInstanceCommands
    public let writer: SQLWorker
    /// Runs reads on a connection of their own (a WAL snapshot), so a listing or a host's inbox
    /// poll never queues behind a write transaction; the writer itself for an in-memory store,
    /// which no second connection can see.
    public let reader: SQLWorker

    /// Opens the store at a store URL (`sqlite:PATH` or `sqlite::memory:`), creating the file
    /// and applying migrations as needed.
    public convenience init(
        url: String,
        options: InstanceStoreOptions = InstanceStoreOptions(),
        sqliteOptions: SQLiteStoreOptions = SQLiteStoreOptions()
    ) async throws {
        try await self.init(location: try StoreLocation(parsing: url), options: options, sqliteOptions: sqliteOptions)
    }

    public init(
        location: StoreLocation,
        options: InstanceStoreOptions = InstanceStoreOptions(),
        sqliteOptions: SQLiteStoreOptions = SQLiteStoreOptions()
    ) async throws {
        let path: String
        switch location {
        case .sqliteFile(let file): path = file
        case .sqliteMemory: path = ":memory:"
        case .postgres:
            throw InstanceStoreError(
                .invalidStoreURL,
                "'\(location)' is a PostgreSQL URL; open it with the PostgreSQL store, or pass "
                    + "'sqlite:PATH' here."
            )
        }
        self.location = location
        self.options = options
        self.sqliteOptions = sqliteOptions
        self.commands = SQLInstanceCommands(options: options)
        let connection = try SQLiteConnection(path: path)
        self.writer = SQLWorker(
            connections: [connection], maxBatch: sqliteOptions.maxBatchSize, name: "steadfast-sqlite \(location)",
            begin: "BEGIN IMMEDIATE", logger: options.logger)
        let setup = sqliteOptions
        let clock = options.clock
        do {
            try await writer.standalone { db in
                try Self.configure(db, setup)
                try SQLiteSchema.migrate(db, now: clock())
            }
        } catch {
            writer.stop()
            throw error
        }
        if path == ":memory:" {
            self.reader = writer
        } else {
            let readConnection: SQLiteConnection
            do {
                readConnection = try SQLiteConnection(path: path)
            } catch {
                writer.stop()
                throw error
            }
            self.reader = SQLWorker(
                connections: [readConnection], maxBatch: sqliteOptions.maxBatchSize,
                name: "steadfast-sqlite-read \(location)", logger: options.logger)
            do {
                try await reader.standalone { db in
                    try Self.configure(db, setup)
                    try db.executeScript("PRAGMA query_only = 1")
                }
            } catch {
                writer.stop()
                reader.stop()
                throw error
            }
        }
    }

    deinit {
        writer.stop()
        reader.stop()
    }

    /// Finishes queued work and closes the database connections.
    public func close() async {
        _ = try? await writer.standalone { _ in () }
        _ = try? await reader.standalone { _ in () }
        writer.stop()
        reader.stop()
    }

    static func configure(_ db: any SQLSession, _ options: SQLiteStoreOptions) throws {
        let (seconds, attoseconds) = options.busyTimeout.components
        let timeout = max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        try db.executeScript("PRAGMA busy_timeout = \(timeout)")
        _ = try db.query("PRAGMA journal_mode = WAL", [])
        try db.executeScript("PRAGMA synchronous = \(options.synchronous.rawValue)")
    }

    /// The database's pragmas, schema versions and group-commit counters.
    public func diagnostics() async throws -> SQLiteDiagnostics {
        let statistics = writer.currentStatistics
        return try await writer.standalone { db in
            func pragma(_ name: String) throws -> SQLValue {
                try db.query("PRAGMA \(name)", []).first?[0] ?? .null
            }
            guard case .text(let journal) = try pragma("journal_mode"),
                case .integer(let synchronous) = try pragma("synchronous"),
                case .integer(let timeout) = try pragma("busy_timeout")
            else {
                throw InstanceStoreError(.storeUnavailable, "SQLite returned unexpected pragma values.")
            }
            return SQLiteDiagnostics(
                journalMode: journal,
                synchronous: Int(synchronous),
                busyTimeoutMilliseconds: Int(timeout),
                schemaVersions: try SQLiteSchema.appliedVersions(db),
                groupCommit: statistics
            )
        }
    }

    /// Group-commit counters since the store opened.
    public var groupCommitStatistics: GroupCommitStatistics { writer.currentStatistics }
}

extension SQLiteInstanceStore {
    public func lookForWork(since token: Int64, definitions: Set<DefinitionIdentity>?) async throws -> WorkLook {
        try await reader.standalone { [commands] db in
            // data_version changes when another connection (another process, or this store's
            // writer) commits; reading it costs no I/O.
            guard case .integer(let version)? = try db.query("PRAGMA data_version", []).first?[0] else {
                throw InstanceStoreError(.storeUnavailable, "SQLite returned no data_version.")
            }
            guard version != token else { return WorkLook(token: version, changed: false) }
            try db.executeScript("BEGIN")
            defer { try? db.executeScript("COMMIT") }
            return WorkLook(
                token: version, changed: true,
                runnableNow: try commands.hasRunnableInstances(definitions: definitions, on: db),
                nextTimerDueTime: try commands.nextTimerDueTime(definitions: definitions, on: db))
        }
    }
}
