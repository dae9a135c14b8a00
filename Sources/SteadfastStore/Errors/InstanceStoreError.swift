import Foundation

/// The one error type every instance store throws.
///
/// `code` is stable (safe to match on, to put in HTTP JSON or CLI output); `message` is for
/// people and says what to do next. Details that a caller may act on (who holds a lock and
/// until when, which key conflicts) are carried as typed fields.
public struct InstanceStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable machine-readable error codes.
    public enum Code: String, Sendable, Equatable, CaseIterable {
        /// The instance is locked by another, live lock owner.
        case instanceLocked
        /// No instance with that id exists (it may have completed and been deleted).
        case instanceNotFound
        /// No instance is associated with that correlation key.
        case keyNotFound
        /// The correlation key already belongs to another instance.
        case keyConflict
        /// A create with this idempotency key was made already: `instanceID` is the instance it
        /// created (it may have finished and been deleted since).
        case duplicateRequest
        /// The idempotency key was used for a different request (`instanceID` is what that one
        /// created).
        case idempotencyKeyReused
        /// The caller no longer holds the instance's lock (another owner took it, or it was
        /// unlocked).
        case lockLost
        /// The caller's version is stale: the instance was saved since it was loaded.
        case versionConflict
        /// The lock owner's lock has expired; its instance locks may have been taken.
        case ownerExpired
        /// The lock owner does not exist (never created, or deleted).
        case ownerNotFound
        /// An inbox entry to settle was not pending (already applied, or never enqueued).
        case messageNotFound
        /// The instance has finished and takes no more messages or commands.
        case instanceFinished
        /// The stored state blob could not be decoded.
        case corruptState
        /// A state to save is larger than the store's `maxStateSize`; nothing was saved.
        case stateTooLarge
        /// The instance was claimed too many times without a successful save (its hosts crashed
        /// or stopped while running it); the claim faulted it instead of loading it.
        case instanceQuarantined
        /// The store URL could not be understood.
        case invalidStoreURL
        /// The request itself is malformed (e.g. completing an instance that is not finished).
        case invalidRequest
        /// The database could not be reached or returned an unexpected error.
        case storeUnavailable
        /// The database is busy (locked by another process) beyond the busy timeout.
        case storeBusy
        /// A schema migration failed or the database schema is newer than this build.
        case migrationFailed
    }

    public var code: Code
    public var message: String
    /// The instance concerned, when there is one.
    public var instanceID: UUID?
    /// For `instanceLocked`: the host id of the owner holding the lock.
    public var lockHostID: String?
    /// For `instanceLocked`: the owner holding the lock.
    public var lockOwnerID: UUID?
    /// For `instanceLocked`: when that owner's lock expires unless renewed.
    public var lockedUntil: Date?
    /// For `keyConflict` / `keyNotFound`: the key concerned.
    public var key: InstanceKey?

    public init(
        _ code: Code,
        _ message: String,
        instanceID: UUID? = nil,
        lockHostID: String? = nil,
        lockOwnerID: UUID? = nil,
        lockedUntil: Date? = nil,
        key: InstanceKey? = nil
    ) {
        self.code = code
        self.message = message
        self.instanceID = instanceID
        self.lockHostID = lockHostID
        self.lockOwnerID = lockOwnerID
        self.lockedUntil = lockedUntil
        self.key = key
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
