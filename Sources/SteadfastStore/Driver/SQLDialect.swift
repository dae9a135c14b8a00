/// What differs between the databases the shared SQL runs on.
public protocol SQLDialect: Sendable {
    /// Appended to the SELECT that picks a runnable instance, so concurrent hosts skip rows
    /// another transaction is claiming (`FOR UPDATE SKIP LOCKED` in PostgreSQL; empty in SQLite,
    /// whose write transactions are already serialized).
    var claimRowsSuffix: String { get }

    /// Appended to a SELECT of instance `i` that a command checks before it writes (delete,
    /// enqueue, save), so a concurrent writer waits for the row instead of acting on what this
    /// one is about to change (`FOR UPDATE OF i` in PostgreSQL; empty in SQLite).
    var lockRowSuffix: String { get }

    /// Whether a statement's WITH clause may hold INSERT, UPDATE or DELETE (PostgreSQL), so
    /// several writes take one round trip.
    var modifyingCommonTableExpressions: Bool { get }
}

/// Errors a driver reports in terms the shared logic can act on.
public struct SQLDriverError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// A UNIQUE or PRIMARY KEY constraint rejected a row.
        case uniqueViolation
        /// The database was busy beyond the driver's timeout.
        case busy
        /// The disk (or the database's size limit) is full.
        case diskFull
        /// The operating system reported an I/O error reading or writing the database.
        case ioError
        /// The database can only be read (file permissions, a read-only mount or replica).
        case readOnly
        /// The database file is damaged or is not a database.
        case corrupt
        /// The transaction lost a transient conflict with another one (a deadlock, a lock that
        /// could not be taken); the job may be run again from its start.
        case conflict
        /// The connection to the database server was lost (it restarted, the network failed);
        /// whether the statement in flight took effect is unknown.
        case connectionLost
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
        case .diskFull:
            InstanceStoreError(
                .storeUnavailable,
                "The disk holding the database is full: \(message). Free space (or raise the database's "
                    + "size limit); nothing was written, and work goes on from the last save once it succeeds."
            )
        case .ioError:
            InstanceStoreError(
                .storeUnavailable,
                "The operating system reported an I/O error on the database: \(message). Check the disk "
                    + "and the file system; nothing was written."
            )
        case .readOnly:
            InstanceStoreError(
                .storeUnavailable,
                "The database can only be read: \(message). Check the file's permissions and the mount, "
                    + "or point the store at a writable database."
            )
        case .corrupt:
            InstanceStoreError(
                .storeUnavailable,
                "The database file is damaged or is not a database: \(message). Restore it from a backup."
            )
        case .conflict:
            InstanceStoreError(
                .storeBusy,
                "The database kept aborting the operation in conflicts with other hosts' transactions: "
                    + "\(message). Retry."
            )
        case .connectionLost:
            InstanceStoreError(
                .storeUnavailable,
                "The connection to the database was lost: \(message). The store reconnects on the next "
                    + "operation; check that the database server is running and reachable, then retry."
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
