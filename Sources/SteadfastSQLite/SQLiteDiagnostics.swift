import SteadfastStore

/// What an open SQLite store reports about its database, for operators and tests.
public struct SQLiteDiagnostics: Sendable, Hashable {
    /// `PRAGMA journal_mode` ("wal" for files; "memory" for `sqlite::memory:`).
    public var journalMode: String
    /// `PRAGMA synchronous`: 1 NORMAL, 2 FULL.
    public var synchronous: Int
    /// `PRAGMA busy_timeout` in milliseconds.
    public var busyTimeoutMilliseconds: Int
    /// The schema versions recorded in `schema_migrations`.
    public var schemaVersions: [Int]
    /// Group-commit counters since the store opened.
    public var groupCommit: GroupCommitStatistics

    public init(
        journalMode: String,
        synchronous: Int,
        busyTimeoutMilliseconds: Int,
        schemaVersions: [Int],
        groupCommit: GroupCommitStatistics
    ) {
        self.journalMode = journalMode
        self.synchronous = synchronous
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.schemaVersions = schemaVersions
        self.groupCommit = groupCommit
    }
}
