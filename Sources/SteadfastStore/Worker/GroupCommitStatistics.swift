/// Counters that show group commit at work: several jobs share one transaction (one fsync).
public struct GroupCommitStatistics: Sendable, Hashable {
    /// Write transactions committed.
    public var transactions: Int = 0
    /// Jobs (saves, loads, …) whose work was committed.
    public var committedJobs: Int = 0
    /// The largest number of jobs that shared one transaction.
    public var largestBatch: Int = 0

    public init() {}
}
