import Foundation
import SteadfastCore
import SteadfastStore

/// The PostgreSQL instance store: any number of hosts on one database, which is the single
/// source of truth; the locks in the rows keep two hosts from running one instance.
///
/// Writes run on a pool of connections, each on its own thread; writes that arrive together
/// share one transaction (group commit), and each caller resumes once its commit is durable.
/// Commands check and then write under row locks (`FOR UPDATE`), and runnable-instance
/// detection claims rows with `FOR UPDATE SKIP LOCKED`, so hosts never fight over rows. A
/// listener connection LISTENs for the notifications the schema's triggers send when work
/// becomes runnable. A lost connection is re-established on the next operation.
public final class PostgresInstanceStore: SQLBackedStore {
    public let location: StoreLocation
    public let options: InstanceStoreOptions
    public let commands: SQLInstanceCommands
    public let writer: SQLWorker
    public let reader: SQLWorker
    let listener: PostgresListener

    /// Opens the store at a store URL (`postgres://…`, `postgresql://…`, or
    /// `postgres:KEY=VALUE …`), applying migrations as needed.
    public convenience init(
        url: String, options: InstanceStoreOptions = InstanceStoreOptions(),
        postgresOptions: PostgresStoreOptions = PostgresStoreOptions()
    ) async throws {
        try await self.init(
            location: try StoreLocation(parsing: url), options: options, postgresOptions: postgresOptions)
    }

    public init(
        location: StoreLocation, options: InstanceStoreOptions = InstanceStoreOptions(),
        postgresOptions: PostgresStoreOptions = PostgresStoreOptions()
    ) async throws {
        guard case .postgres(let conninfo) = location else {
            throw InstanceStoreError(
                .invalidStoreURL, "'\(location)' is not a PostgreSQL URL; open it with the SQLite store.")
        }
        for (name, count) in [
            ("write connections", postgresOptions.writeConnections),
            ("read connections", postgresOptions.readConnections),
        ] where !(1...64).contains(count) {
            throw InstanceStoreError(.invalidRequest, "The PostgreSQL store needs 1 to 64 \(name), not \(count).")
        }
        self.location = location
        self.options = options
        self.commands = SQLInstanceCommands(options: options)
        // A host frozen inside a transaction (paused, cut off) must not hold row locks for as
        // long as TCP takes to notice: others wait at most the lock timeout (then retry: a
        // conflict), and the server ends a transaction left idle for 10 s (the store's never
        // idle: their statements go out back to back). Until then, the rows it locked are skipped
        // by other hosts' claims: a host frozen mid-transaction (SIGSTOP) held one instance from
        // its successor for the whole minute this was before. The store's frequent statements
        // find their rows by key; without `enable_seqscan = off`, a statement prepared
        // while its table was small keeps a sequential-scan plan after the table grows (with
        // rows, or with dead versions of the few it has: a save then took 210 µs instead of 94).
        let setup =
            "SET lock_timeout = '5s'; SET idle_in_transaction_session_timeout = '10s'; SET enable_seqscan = off"
            + (postgresOptions.synchronousCommit ? "" : "; SET synchronous_commit = off")
        let writes = try Self.connect(
            conninfo, setup: setup, count: postgresOptions.writeConnections, location: location)
        let reads = try Self.connect(conninfo, setup: setup, count: postgresOptions.readConnections, location: location)
        self.writer = SQLWorker(
            connections: writes, maxBatch: postgresOptions.maxBatchSize, name: "steadfast-postgres",
            logger: options.logger)
        self.reader = SQLWorker(
            connections: reads, maxBatch: postgresOptions.maxBatchSize, name: "steadfast-postgres-read",
            logger: options.logger)
        do {
            let clock = options.clock
            _ = try await writer.standalone { db in try PostgresSchema.migrate(db, now: clock()) }
            self.listener = try PostgresListener(conninfo: conninfo, logger: options.logger)
        } catch {
            await writer.stopAndWait()
            await reader.stopAndWait()
            throw Self.connectionError(error, location: location)
        }
    }

    deinit {
        writer.stop()
        reader.stop()
        listener.stop()
    }

    private static func connect(
        _ conninfo: String, setup: String?, count: Int, location: StoreLocation
    ) throws -> [any SQLSession] {
        do {
            return try (0..<count).map { _ in try PostgresConnection(conninfo: conninfo, setup: setup) }
        } catch {
            throw connectionError(error, location: location)
        }
    }

    /// A connection failure at open, named with the (password-free) location.
    private static func connectionError(_ error: any Error, location: StoreLocation) -> InstanceStoreError {
        guard let error = error as? SQLDriverError else {
            return (error as? InstanceStoreError) ?? InstanceStoreError(.storeUnavailable, "\(error)")
        }
        let detail = location.scrubbed(error.message)
        return InstanceStoreError(
            .storeUnavailable,
            "Cannot open the PostgreSQL store \(location): \(detail.trimmingCharacters(in: ["."]))"
                + (detail.hasSuffix("?") ? "" : ".") + " Check the connection string (host, "
                + "port, database, user, password or service file) and that the server is running.")
    }

    /// Finishes queued work and closes the connections.
    public func close() async {
        listener.stop()
        await writer.stopAndWait()
        await reader.stopAndWait()
    }

    /// The schema versions recorded in the database.
    public func schemaVersions() async throws -> [Int] {
        try await reader.write { try PostgresSchema.appliedVersions($0) }
    }

    /// Group-commit counters since the store opened.
    public var groupCommitStatistics: GroupCommitStatistics { writer.currentStatistics }

    /// The token is the listener's notification count: unchanged, nothing is read at all.
    public func lookForWork(since token: Int64, definitions: Set<DefinitionIdentity>?) async throws -> WorkLook {
        let current = listener.count
        guard current != token else { return WorkLook(token: current, changed: false) }
        return try await read { commands, db in
            WorkLook(
                token: current, changed: true,
                runnableNow: try commands.hasRunnableInstances(definitions: definitions, on: db),
                nextTimerDueTime: try commands.nextTimerDueTime(definitions: definitions, on: db))
        }
    }

    public func waitForChange(since token: Int64, timeout: Duration) async {
        await listener.wait(after: token, timeout: timeout)
    }
}
