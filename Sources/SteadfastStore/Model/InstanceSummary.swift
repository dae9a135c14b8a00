import Foundation
import SteadfastCore

/// The queryable columns of an instance, without its state blob.
public struct InstanceSummary: Sendable, Hashable, Codable, Identifiable {
    public var id: UUID
    public var definition: DefinitionIdentity
    public var status: InstanceStatus
    public var isSuspended: Bool
    /// Bumped by every save; a save must name the version it loaded.
    public var version: Int64
    /// The current lock, if any (it may have expired: compare `expiresAt` with now).
    public var lock: InstanceLock?
    public var nextTimerAt: Date?
    public var fault: String?
    /// Why no host can run the instance now (its exact definition is not hosted); nil when it
    /// is not blocked.
    public var blockedReason: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// Why the row cannot be used as it stands (its status is one this build does not know);
    /// nil for a normal row. Such a row is listed and read, with `status` only a placeholder
    /// (`faulted`), but never loaded or claimed: repair or delete it.
    public var unreadable: String?

    public init(
        id: UUID,
        definition: DefinitionIdentity,
        status: InstanceStatus,
        isSuspended: Bool,
        version: Int64,
        lock: InstanceLock?,
        nextTimerAt: Date?,
        fault: String?,
        blockedReason: String? = nil,
        createdAt: Date,
        updatedAt: Date,
        unreadable: String? = nil
    ) {
        self.id = id
        self.definition = definition
        self.status = status
        self.isSuspended = isSuspended
        self.version = version
        self.lock = lock
        self.nextTimerAt = nextTimerAt
        self.fault = fault
        self.blockedReason = blockedReason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.unreadable = unreadable
    }
}

extension InstanceSummary {
    /// The lock, if it is still live at `now` (an expired owner's lock is free).
    public func liveLock(at now: Date) -> InstanceLock? {
        guard let lock, lock.expiresAt > now else { return nil }
        return lock
    }
}
