import Foundation
import Logging
import Metrics

/// Runs every database call of a store on dedicated threads, one connection each, so blocking
/// driver calls (and their fsyncs) never hold a cooperative-pool thread, and batches the jobs
/// that are waiting when a thread becomes free into one transaction (group commit). Each job
/// runs in its own SAVEPOINT, so a job that fails (a version conflict) rolls back only its own
/// changes and fails only its own caller; the others resume once the commit is durable. When a
/// job loses a transient conflict (a deadlock another transaction won), the whole transaction
/// is rolled back — the row locks its earlier jobs took are part of the conflict — and its jobs
/// run again, each in a transaction of its own.
///
/// Round trips: BEGIN, SAVEPOINT and RELEASE are deferred, so a server database sends them with
/// the next statement; and the batch's jobs that come as statements needing no answer to go on
/// (`SQLPipelined`: the usual save, create and completion) are sent first, all together, in one
/// round trip inside one savepoint. If one of them is refused, the savepoint is rolled back and
/// they run the usual way, one by one.
///
/// This is where transactions live: a job's body gets the connection only inside one (or,
/// for set-up, alone with `standalone`).
///
/// `@unchecked Sendable` is safe here: each connection is used only on its own thread (the
/// initializer hands it over before the thread starts), and `queue`, `stopping`, `running`
/// and `statistics` are read and written only while holding `condition`.
public final class SQLWorker: @unchecked Sendable {  // safe: see the note above
    private let connections: [any SQLSession]
    private let condition = NSCondition()
    private var queue: [SQLJob] = []
    private var stopping = false
    private var running: Int
    private var statistics = GroupCommitStatistics()
    private let maxBatch: Int
    private let threads: Int
    /// How a batch's transaction starts (`BEGIN IMMEDIATE` for SQLite's writer, which takes the
    /// write lock at once; `BEGIN` for a reader or a server database).
    private let begin: String
    /// How often a job that lost a transient conflict is run again before its caller gets it.
    private static let conflictRetries = 5
    /// Where lost and re-established connections are logged.
    private let logger: Logger
    /// When a failed reconnection was last logged (guarded by `condition`): once every 10 s
    /// at most, however many jobs find the database gone.
    private var reconnectFailureLoggedAt: ContinuousClock.Instant?

    /// Starts one thread per connection, all taking jobs from one queue.
    public init(
        connections: [any SQLSession], maxBatch: Int, name: String, begin: String = "BEGIN",
        logger: Logger = Logger(label: "steadfast.store", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        var logger = logger
        logger[metadataKey: "store_worker"] = .string(name)
        self.logger = logger
        precondition(!connections.isEmpty, "a SQLWorker needs at least one connection")
        self.maxBatch = max(1, maxBatch)
        self.threads = max(1, connections.count)
        self.begin = begin
        self.running = connections.count
        self.connections = connections
        self.pipelines = connections[0].pipelinesStatements
        self.dialect = connections[0].dialect
        for index in connections.indices {
            let thread = Thread { [self] in runLoop(self.connections[index]) }
            thread.name = connections.count == 1 ? name : "\(name) #\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body` on a worker thread inside a (possibly shared) transaction; returns after
    /// that transaction has committed.
    /// With `pipelined`, on a connection that pipelines, the job is sent as those statements
    /// together with the batch's other such jobs, in one round trip; `body` runs instead when
    /// they cannot be used.
    public func write<T: Sendable>(
        pipelined: SQLPipelined<T>? = nil, _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        try await submit(standalone: false, pipelined: pipelined, body)
    }

    /// Runs `body` on a worker thread outside any transaction (set-up and migrations).
    public func standalone<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await submit(standalone: true, body)
    }

    /// Whether its connections send pipelined jobs' statements together (see `write`).
    public let pipelines: Bool
    /// Its database's spelling, for statements built before they reach a connection.
    public let dialect: any SQLDialect

    public var currentStatistics: GroupCommitStatistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    /// Lets the threads finish the queued jobs, then exit (closing their connections).
    public func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops, and returns once every thread has closed its connection.
    public func stopAndWait() async {
        stop()
        while runningThreads > 0 { try? await Task.sleep(for: .milliseconds(2)) }
    }

    private var runningThreads: Int {
        condition.lock()
        defer { condition.unlock() }
        return running
    }

    private func submit<T: Sendable>(
        standalone: Bool, pipelined: SQLPipelined<T>? = nil,
        _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = SQLJob.make(
                standalone: standalone, continuation: continuation, pipelined: pipelined, body: body)
            condition.lock()
            guard !stopping else {
                condition.unlock()
                job.fail(
                    InstanceStoreError(.storeUnavailable, "The store has been closed; open a new store to continue."))
                return
            }
            queue.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    private func runLoop(_ connection: any SQLSession) {
        while let batch = nextBatch() {
            if batch.count == 1, batch[0].standalone {
                runStandalone(batch[0], on: connection)
            } else {
                runTransaction(batch, on: connection)
            }
        }
        connection.close()
        condition.lock()
        running -= 1
        condition.unlock()
    }

    /// Waits for work; takes either one standalone job or a run of transactional jobs (its
    /// share, when other threads are free to take the rest).
    private func nextBatch() -> [SQLJob]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        guard !queue.isEmpty else { return nil }
        if queue[0].standalone { return [queue.removeFirst()] }
        let share = min(maxBatch, (queue.count + threads - 1) / threads)
        let count = queue.prefix(share).firstIndex(where: \.standalone) ?? share
        let batch = Array(queue[0..<count])
        queue.removeFirst(count)
        if !queue.isEmpty { condition.signal() }
        return batch
    }

    private func runStandalone(_ job: SQLJob, on connection: any SQLSession) {
        do {
            try reconnectIfNeeded(connection)
        } catch {
            job.fail(error)
            return
        }
        switch job.run(connection) {
        case .succeeded(let resume), .failed(_, _, let resume): resume()
        }
    }

    /// Starts a transaction: BEGIN (and, with `savepoint`, the first job's savepoint) go out
    /// with the first job's first statement. A lost connection is re-established first.
    private func beginTransaction(on connection: any SQLSession, savepoint: Bool = false) throws {
        try reconnectIfNeeded(connection)
        try connection.deferStatement(begin)
        if savepoint { try connection.deferStatement("SAVEPOINT job") }
    }

    /// Connects again if the connection was lost, and logs it: the reconnection, or (once
    /// every 10 s at most) why it failed.
    private func reconnectIfNeeded(_ connection: any SQLSession) throws {
        do {
            if try connection.reconnectIfNeeded() { logger.notice("reconnected to the database after losing it") }
        } catch {
            let now = ContinuousClock.now
            condition.lock()
            let due = reconnectFailureLoggedAt.map { now - $0 >= .seconds(10) } ?? true
            if due { reconnectFailureLoggedAt = now }
            condition.unlock()
            if due { logger.warning("cannot reach the database (retrying with each operation): \(error)") }
            throw error
        }
    }

    /// Whether a job that found the connection lost may run again on a new one: it was the
    /// transaction's first (nothing of the transaction committed, so nothing runs twice), and
    /// this is the first time.
    private static func mayRetry(_ cause: SQLDriverError.Kind?, first: Bool, retried: inout Bool) -> Bool {
        guard first, !retried, cause == .connectionLost else { return false }
        retried = true
        return true
    }

    private func runTransaction(_ batch: [SQLJob], on connection: any SQLSession) {
        if batch.count == 1 && (batch[0].pipelined == nil || !connection.pipelinesStatements) {
            runAlone(batch[0], on: connection)
            return
        }
        // The jobs of a batch are concurrent, so any order is theirs: those that can be sent
        // without waiting go first, together.
        var pipelining = connection.pipelinesStatements && batch.contains { $0.pipelined != nil }
        var pending =
            pipelining ? (batch.filter { $0.pipelined != nil } + batch.filter { $0.pipelined == nil })[...] : batch[...]
        var retriedConnection = false
        transactions: while !pending.isEmpty {
            do {
                try beginTransaction(on: connection, savepoint: true)
            } catch {
                for job in pending { job.fail(error) }
                return
            }
            // Every job's caller, failed ones too, resumes only when the transaction has ended:
            // a failure may rest on an earlier job's change that is then rolled back.
            var done: [(job: SQLJob, resume: @Sendable () -> Void)] = []
            var succeeded = 0
            var transactionLost = false
            if pipelining {
                let group = Array(pending.prefix { $0.pipelined != nil })
                pending.removeFirst(group.count)
                switch runPipelined(group, more: !pending.isEmpty, on: connection) {
                case .sent(let sent):
                    done = sent
                    succeeded = sent.count
                case .runUsually:
                    pipelining = false
                    pending = group + pending
                case .lost(let error):
                    let cause = (error as? SQLDriverError)?.kind
                    if Self.mayRetry(cause, first: true, retried: &retriedConnection) {
                        pending = group + pending
                    } else {
                        for job in group { job.fail(error) }
                    }
                    continue transactions
                }
            }
            while let job = pending.popFirst() {
                let outcome = runInSavepoint(job, last: pending.isEmpty, on: connection)
                if !connection.isInTransaction {
                    transactionLost = true
                    if Self.mayRetry(outcome.cause, first: done.isEmpty, retried: &retriedConnection) {
                        pending = [job] + pending
                        break
                    }
                    // The database rolled the whole transaction back (an I/O error, a full
                    // disk, a lost connection): the jobs before this one lost their work too.
                    for earlier in done { earlier.job.fail(Self.transactionAborted) }
                    if case .failed(_, _, let resume) = outcome { resume() } else { job.fail(Self.transactionAborted) }
                    break
                }
                switch outcome {
                case .succeeded(let resume):
                    done.append((job, resume))
                    succeeded += 1
                case .failed(_, let cause, let resume) where cause != .conflict: done.append((job, resume))
                case .failed:
                    try? connection.executeScript("ROLLBACK")
                    for again in done.map(\.job) + [job] + pending { runAlone(again, on: connection) }
                    return
                }
            }
            if transactionLost { continue }
            finish(done, succeeded: succeeded, releasing: true, on: connection)
        }
    }

    private enum PipelineRun {
        /// Every job's statements ran and succeeded: resume the callers after the commit.
        case sent([(job: SQLJob, resume: @Sendable () -> Void)])
        /// One of them failed or must run the usual way: their effects are rolled back (to the
        /// open savepoint), and they run the usual way.
        case runUsually
        /// The transaction is gone (a lost connection): nothing of it committed.
        case lost(any Error)
    }

    /// Sends the jobs' statements in one pipeline, inside the open savepoint `job` (and opens it
    /// again when `more` jobs follow).
    private func runPipelined(_ jobs: [SQLJob], more: Bool, on connection: any SQLSession) -> PipelineRun {
        let rows: [[SQLRow]]
        do {
            rows = try connection.pipeline(jobs.flatMap { $0.pipelined?.statements ?? [] })
        } catch {
            guard connection.isInTransaction else { return .lost(error) }
            try? connection.executeScript("ROLLBACK TO job")
            return .runUsually
        }
        var sent: [(job: SQLJob, resume: @Sendable () -> Void)] = []
        var next = rows[...]
        for job in jobs {
            let count = job.pipelined?.statements.count ?? 0
            guard let resume = job.pipelined?.finish(Array(next.prefix(count))) else {
                try? connection.executeScript("ROLLBACK TO job")
                return .runUsually
            }
            next = next.dropFirst(count)
            sent.append((job, resume))
        }
        guard more else { return .sent(sent) }
        do {
            try connection.deferStatement("RELEASE job")
            try connection.deferStatement("SAVEPOINT job")
        } catch {
            try? connection.executeScript("ROLLBACK TO job")
            return .runUsually
        }
        return .sent(sent)
    }

    /// Runs one job in a transaction of its own, again after a lost conflict (a few tries, a
    /// short random pause between them, so the winner of a deadlock gets through).
    private func runAlone(_ job: SQLJob, on connection: any SQLSession) {
        var retriedConnection = false
        for attempt in 0...Self.conflictRetries {
            do {
                try beginTransaction(on: connection)
            } catch {
                job.fail(error)
                return
            }
            // Alone in its transaction, the job needs no savepoint: a failure rolls it all back.
            let outcome = job.run(connection)
            guard connection.isInTransaction else {
                if Self.mayRetry(outcome.cause, first: true, retried: &retriedConnection) { continue }
                if case .failed(_, _, let resume) = outcome { resume() } else { job.fail(Self.transactionAborted) }
                return
            }
            switch outcome {
            case .succeeded(let resume):
                finish([(job, resume)], succeeded: 1, releasing: false, on: connection)
                return
            case .failed(_, let cause, let resume):
                try? connection.executeScript("ROLLBACK")
                if cause == .conflict && attempt < Self.conflictRetries {
                    Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.01) * Double(attempt + 1))
                    continue
                }
                resume()
                return
            }
        }
    }

    private static let transactionAborted = InstanceStoreError(
        .storeUnavailable,
        "The database aborted the transaction; nothing in it was saved. Retry, and check the database (its "
            + "disk, its server).")

    /// Runs a job in the open savepoint `job`, and leaves the savepoint open for the next one
    /// (released and opened again in one round trip; after the `last` job, `finish` releases it
    /// with the COMMIT). A failed job's changes are rolled back to the savepoint.
    private func runInSavepoint(_ job: SQLJob, last: Bool, on connection: any SQLSession) -> SQLJob.Outcome {
        let outcome = job.run(connection)
        guard connection.isInTransaction else { return outcome }
        switch outcome {
        case .succeeded:
            if last { return outcome }
            do {
                try connection.deferStatement("RELEASE job")
                try connection.deferStatement("SAVEPOINT job")
                return outcome
            } catch {
                try? connection.executeScript("ROLLBACK TO job")
                return .failed(error: SQLJob.storeError(error), cause: nil) { job.fail(error) }
            }
        case .failed:
            try? connection.executeScript("ROLLBACK TO job")
            return outcome
        }
    }

    /// Commits, then resumes every caller (`succeeded` of them had work committed).
    private func finish(
        _ committed: [(job: SQLJob, resume: @Sendable () -> Void)], succeeded: Int, releasing: Bool,
        on connection: any SQLSession
    ) {
        do {
            // PostgreSQL answers COMMIT of a failed transaction with a rollback, not an error.
            guard !connection.isTransactionFailed else { throw Self.transactionAborted }
            if releasing { try connection.deferStatement("RELEASE job") }
            try connection.executeScript("COMMIT")
        } catch {
            try? connection.executeScript("ROLLBACK")
            for done in committed { done.job.fail(error) }
            return
        }
        condition.lock()
        statistics.transactions += 1
        statistics.committedJobs += succeeded
        statistics.largestBatch = max(statistics.largestBatch, succeeded)
        condition.unlock()
        // Jobs per transaction, through swift-metrics (made here, not kept: the process may
        // bootstrap its metrics backend after the store opened).
        Recorder(label: "steadfast_group_commit_batch_size").record(succeeded)
        for done in committed { done.resume() }
    }
}
