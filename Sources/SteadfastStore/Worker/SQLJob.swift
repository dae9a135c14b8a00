/// One unit of work for a worker thread, and how to resume its caller.
struct SQLJob: Sendable {
    /// What the job did, and how to resume its caller once its transaction has ended.
    enum Outcome: Sendable {
        /// The work succeeded; resume the caller after the transaction commits.
        case succeeded(resume: @Sendable () -> Void)
        /// The work failed with `error` (from the database, `cause`); its savepoint is rolled back
        /// and the caller gets the error, unless the worker runs the job again (a transient
        /// conflict, or a connection found lost before anything of the transaction committed).
        case failed(error: InstanceStoreError, cause: SQLDriverError.Kind?, resume: @Sendable () -> Void)

        /// Why the database refused the work, if it did.
        var cause: SQLDriverError.Kind? {
            if case .failed(_, let cause, _) = self { cause } else { nil }
        }
    }

    /// Whether the job runs alone, outside any transaction (setup, pragmas, migrations that
    /// manage their own transaction).
    var standalone: Bool
    /// Runs the work on the worker thread.
    var run: @Sendable (any SQLSession) -> Outcome
    /// The work as statements sent without waiting, where it can be (see `SQLPipelined`).
    var pipelined: Pipelined?
    /// Resumes the caller with an error that is not its own (the batch failed to commit).
    var fail: @Sendable (any Error) -> Void

    /// A job's statements, and how to resume its caller from their rows (nil: the job must
    /// run the usual way, after its statements' effects are rolled back).
    struct Pipelined: Sendable {
        var statements: [SQLStatement]
        var finish: @Sendable ([[SQLRow]]) -> (@Sendable () -> Void)?
    }

    /// A job that runs `body` (or sends `pipelined`'s statements) and resumes `continuation`
    /// with its result.
    static func make<T: Sendable>(
        standalone: Bool,
        continuation: CheckedContinuation<T, any Error>,
        pipelined: SQLPipelined<T>? = nil,
        body: @escaping @Sendable (any SQLSession) throws -> T
    ) -> SQLJob {
        SQLJob(
            standalone: standalone,
            run: { connection in
                do {
                    let value = try body(connection)
                    return .succeeded { continuation.resume(returning: value) }
                } catch {
                    let storeError = SQLJob.storeError(error)
                    return .failed(error: storeError, cause: (error as? SQLDriverError)?.kind) {
                        continuation.resume(throwing: storeError)
                    }
                }
            },
            pipelined: pipelined.map { pipelined in
                Pipelined(statements: pipelined.statements) { rows in
                    // A refusal is left to the usual way, which names it precisely.
                    guard let value = try? pipelined.finish(rows) else { return nil }
                    return { continuation.resume(returning: value) }
                }
            },
            fail: { error in continuation.resume(throwing: SQLJob.storeError(error)) }
        )
    }

    /// Every error leaves the store as an `InstanceStoreError`.
    static func storeError(_ error: any Error) -> InstanceStoreError {
        switch error {
        case let error as InstanceStoreError: error
        case let error as SQLDriverError: error.storeError
        default:
            InstanceStoreError(
                .storeUnavailable,
                "Unexpected error from the store's database: \(error). Retry; if it persists, check the database."
            )
        }
    }
}
