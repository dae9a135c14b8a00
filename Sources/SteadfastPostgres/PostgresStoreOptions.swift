/// Options of the PostgreSQL store (the shared ones are in `InstanceStoreOptions`).
public struct PostgresStoreOptions: Sendable, Hashable {
    /// Connections (and threads) that run writes; saves that arrive together share one
    /// transaction on one of them (group commit), their statements sent in one round trip where
    /// they need no answer to go on. Fewer connections make bigger batches: on a 2-core machine
    /// with the server on it, 3 ran 64 concurrent workflows 30–60 % faster than 8
    /// (`host-bench`); more help when the server is far away or has many cores.
    public var writeConnections: Int
    /// Connections that run reads (listings, inbox polls), so they never queue behind writes.
    public var readConnections: Int
    /// The most jobs one group-commit transaction takes.
    public var maxBatchSize: Int

    /// Whether a commit waits for the server's WAL flush (`synchronous_commit`): on, a committed
    /// save survives a server crash; off, faster, and a server crash may lose the last commits
    /// (never half of one).
    public var synchronousCommit: Bool

    public init(
        writeConnections: Int = 3, readConnections: Int = 2, maxBatchSize: Int = 64, synchronousCommit: Bool = true
    ) {
        self.synchronousCommit = synchronousCommit
        self.writeConnections = writeConnections
        self.readConnections = readConnections
        self.maxBatchSize = maxBatchSize
    }
}
