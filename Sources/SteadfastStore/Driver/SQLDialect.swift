/// What differs between the databases the shared SQL runs on.
public protocol SQLDialect: Sendable {
    /// Appended to the SELECT that picks a runnable instance, so concurrent hosts skip rows
    /// another transaction is claiming (`FOR UPDATE SKIP LOCKED` in PostgreSQL; empty in SQLite,
    /// whose write transactions are already serialized).
    var claimRowsSuffix: String { get }
}

/// Errors a driver reports in terms the shared logic can act on.
public struct SQLDriverError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// A UNIQUE or PRIMARY KEY constraint rejected a row.
        case uniqueViolation
        /// The database was busy beyond the driver's timeout.
        case busy
        /// Anything else.
        case other
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The store error this driver error becomes when no command handles it specially.
    public var storeError: InstanceStoreError {
        switch kind {
        case .busy:
            InstanceStoreError(
                .storeBusy,
                "The database stayed busy (locked by another process) past the busy timeout: "
                    + "\(message). Retry, or raise the busy timeout."
            )
        case .uniqueViolation, .other:
            InstanceStoreError(
                .storeUnavailable,
                "The database reported an error: \(message). Check that the store is reachable "
                    + "and its schema is current."
            )
        }
    }
}
