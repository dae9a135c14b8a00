import Foundation

/// A host registered with the store. Instances the host loads are locked to it until its lock
/// expires; the host keeps it alive with `renewLockOwner`.
public struct LockOwner: Sendable, Hashable, Codable {
    public var id: UUID
    public var hostID: String
    /// How far each renewal extends the lock (now + lockDuration).
    public var lockDuration: Duration
    public var lockExpiresAt: Date

    public init(id: UUID, hostID: String, lockDuration: Duration, lockExpiresAt: Date) {
        self.id = id
        self.hostID = hostID
        self.lockDuration = lockDuration
        self.lockExpiresAt = lockExpiresAt
    }
}

/// Who holds an instance's lock, and until when.
public struct InstanceLock: Sendable, Hashable, Codable {
    public var ownerID: UUID
    public var hostID: String
    public var expiresAt: Date

    public init(ownerID: UUID, hostID: String, expiresAt: Date) {
        self.ownerID = ownerID
        self.hostID = hostID
        self.expiresAt = expiresAt
    }
}
