/// Options of the SQLite store (the shared ones are in `InstanceStoreOptions`).
public struct SQLiteStoreOptions: Sendable, Hashable {
    /// SQLite's `PRAGMA synchronous` in WAL mode.
    public enum Synchronous: String, Sendable, Hashable {
        /// Every commit is fsynced before the caller resumes: a committed save survives power
        /// loss. The default.
        case full = "FULL"
        /// Commits are fsynced at checkpoints only: a power loss may lose the last commits (the
        /// database stays consistent); process crashes lose nothing. Faster.
        case normal = "NORMAL"
    }

    public var synchronous: Synchronous
    /// How long a connection waits for another process's write lock before `storeBusy`.
    public var busyTimeout: Duration
    /// The most jobs one group-commit transaction takes.
    public var maxBatchSize: Int

    public init(synchronous: Synchronous = .full, busyTimeout: Duration = .seconds(10), maxBatchSize: Int = 256) {
        self.synchronous = synchronous
        self.busyTimeout = busyTimeout
        self.maxBatchSize = maxBatchSize
    }
}
