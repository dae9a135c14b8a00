import Foundation
import SteadfastStore

/// Runs every database call of one store on a dedicated thread, so blocking SQLite calls (and
/// their fsyncs) never hold a cooperative-pool thread, and batches the jobs that are waiting
/// when the thread becomes free into one `BEGIN IMMEDIATE … COMMIT` (group commit). Each job
/// runs in its own SAVEPOINT, so a job that fails (a version conflict) rolls back only its own
/// changes and fails only its own caller; the others resume once the commit is durable.
///
/// `@unchecked Sendable` is safe here: `connection` is used only on `thread` (the initializer
/// hands it over before the thread starts), and `queue`, `stopping` and `statistics` are read
/// and written only while holding `condition`.
final class SQLiteWorker: @unchecked Sendable {  // safe: see the note above
    private let connection: SQLiteConnection
    private let condition = NSCondition()
    private var queue: [SQLiteJob] = []
    private var stopping = false
    private var statistics = GroupCommitStatistics()
    private let maxBatch: Int
    /// How a batch's transaction starts: `BEGIN IMMEDIATE` for the writer (it takes the write
    /// lock at once), `BEGIN` for a reader (a WAL snapshot that never waits for the writer).
    private let begin: String

    init(connection: SQLiteConnection, maxBatch: Int, name: String, begin: String = "BEGIN IMMEDIATE") {
        self.connection = connection
        self.maxBatch = max(1, maxBatch)
        self.begin = begin
        let thread = Thread { [self] in runLoop() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the worker thread inside a (possibly shared) write transaction; returns
    /// after that transaction has committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await submit(standalone: false, body)
    }

    /// Runs `body` on the worker thread outside any transaction.
    func standalone<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await submit(standalone: true, body)
    }

    var currentStatistics: GroupCommitStatistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    /// Lets the thread finish the queued jobs, then exit (closing the connection).
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func submit<T: Sendable>(
        standalone: Bool,
        _ body: @escaping @Sendable (SQLiteConnection) throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = SQLiteJob.make(standalone: standalone, continuation: continuation, body: body)
            condition.lock()
            guard !stopping else {
                condition.unlock()
                job.fail(
                    InstanceStoreError(
                        .storeUnavailable,
                        "The SQLite store has been closed; open a new store to continue."
                    )
                )
                return
            }
            queue.append(job)
            condition.signal()
            condition.unlock()
        }
    }

    private func runLoop() {
        while let batch = nextBatch() {
            if batch.count == 1, batch[0].standalone {
                runStandalone(batch[0])
            } else {
                runTransaction(batch)
            }
        }
        connection.close()
    }

    /// Waits for work; takes either one standalone job or a run of transactional jobs.
    private func nextBatch() -> [SQLiteJob]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        guard !queue.isEmpty else { return nil }
        if queue[0].standalone { return [queue.removeFirst()] }
        let count = queue.prefix(maxBatch).firstIndex(where: \.standalone) ?? min(queue.count, maxBatch)
        let batch = Array(queue[0..<count])
        queue.removeFirst(count)
        return batch
    }

    private func runStandalone(_ job: SQLiteJob) {
        switch job.run(connection) {
        case .succeeded(let resume), .failed(let resume): resume()
        }
    }

    private func runTransaction(_ batch: [SQLiteJob]) {
        var pending = batch[...]
        while !pending.isEmpty {
            do {
                try connection.executeScript(begin)
            } catch {
                for job in pending { job.fail(error) }
                return
            }
            var committed: [(job: SQLiteJob, resume: @Sendable () -> Void)] = []
            var transactionLost = false
            while let job = pending.popFirst() {
                let outcome = runInSavepoint(job)
                if !connection.isInTransaction {
                    // SQLite rolled the whole transaction back (I/O error, disk full): the
                    // jobs before this one lost their work too.
                    let error = InstanceStoreError(
                        .storeUnavailable,
                        "SQLite aborted the transaction; nothing in it was saved. Retry, and check "
                            + "the disk holding the database."
                    )
                    for done in committed { done.job.fail(error) }
                    if case .failed(let resume) = outcome { resume() } else { job.fail(error) }
                    transactionLost = true
                    break
                }
                switch outcome {
                case .succeeded(let resume): committed.append((job, resume))
                case .failed(let resume): resume()
                }
            }
            if transactionLost { continue }
            finish(committed)
        }
    }

    private func runInSavepoint(_ job: SQLiteJob) -> SQLiteJob.Outcome {
        do {
            try connection.executeScript("SAVEPOINT job")
        } catch {
            return .failed { job.fail(error) }
        }
        let outcome = job.run(connection)
        guard connection.isInTransaction else { return outcome }
        switch outcome {
        case .succeeded:
            do {
                try connection.executeScript("RELEASE job")
                return outcome
            } catch {
                try? connection.executeScript("ROLLBACK TO job; RELEASE job")
                return .failed { job.fail(error) }
            }
        case .failed:
            try? connection.executeScript("ROLLBACK TO job; RELEASE job")
            return outcome
        }
    }

    private func finish(_ committed: [(job: SQLiteJob, resume: @Sendable () -> Void)]) {
        do {
            try connection.executeScript("COMMIT")
        } catch {
            try? connection.executeScript("ROLLBACK")
            for done in committed { done.job.fail(error) }
            return
        }
        condition.lock()
        statistics.transactions += 1
        statistics.committedJobs += committed.count
        statistics.largestBatch = max(statistics.largestBatch, committed.count)
        condition.unlock()
        for done in committed { done.resume() }
    }
}
