/// A database connection a ``SQLWorker`` owns: the worker opens, ends and (for a server
/// database) re-establishes its transactions; store commands only ever see it inside one.
public protocol SQLSession: SQLConnection {
    /// Runs one or more statements without parameters (BEGIN, COMMIT, SAVEPOINT, migrations).
    func executeScript(_ sql: String) throws

    /// Runs a statement without parameters (BEGIN, SAVEPOINT, RELEASE) with the next one, in
    /// the same round trip where the database allows it; its error is then that statement's.
    /// Nothing may depend on its outcome until the next statement has run.
    func deferStatement(_ sql: String) throws

    /// Whether `pipeline` saves round trips (a server database); when false, a worker runs
    /// every command the usual way.
    var pipelinesStatements: Bool { get }

    /// Sends the statements (after any deferred ones) without waiting between them, and returns
    /// each one's rows; throws the first error (the statements after it are not run).
    func pipeline(_ statements: [SQLStatement]) throws -> [[SQLRow]]

    /// Whether a transaction is open (false after the database rolled it back on its own).
    var isInTransaction: Bool { get }

    /// Whether the open transaction failed and can only be rolled back (PostgreSQL's aborted
    /// state; SQLite rolls back on its own, which `isInTransaction` shows).
    var isTransactionFailed: Bool { get }

    /// Makes the connection usable again if it was lost (a server restarted); throws when it
    /// cannot. Called before a transaction starts, never inside one.
    /// Returns whether it had to connect again.
    @discardableResult
    func reconnectIfNeeded() throws -> Bool

    /// Releases the connection; later calls fail.
    func close()
}

extension SQLSession {
    @discardableResult
    public func reconnectIfNeeded() throws -> Bool { false }

    /// Runs it at once (an embedded database has no round trips to save).
    public func deferStatement(_ sql: String) throws { try executeScript(sql) }

    public var pipelinesStatements: Bool { false }

    public func pipeline(_ statements: [SQLStatement]) throws -> [[SQLRow]] {
        try statements.map { try query($0.sql, $0.parameters) }
    }

    public var isTransactionFailed: Bool { false }
}
