import Foundation
import SteadfastCore

/// What happens to the lock (and the row) after a save.
public enum SaveLockAction: String, Sendable, Hashable, Codable {
    /// Keep the instance locked to the owner (it stays in memory).
    case keepLock
    /// Release the lock (the instance is unloaded; any host may load it).
    case unlock
    /// The instance finished: apply the store's completion action and release the lock.
    /// The snapshot's status must be a finished one.
    case complete
}

/// Saves a loaded instance. It succeeds only if `owner` still holds the lock, the owner is live
/// and `expectedVersion` is the stored version; otherwise it fails and changes nothing.
public struct SaveRequest: Sendable, Hashable {
    public var instanceID: UUID
    public var owner: UUID
    /// The version the caller loaded (or got back from its last save).
    public var expectedVersion: Int64
    public var snapshot: InstanceSnapshot
    /// Pending inbox entries this save applied; they are marked applied in the same
    /// transaction (the save fails with `messageNotFound` if one is not pending).
    public var appliedEntryIDs: [Int64]
    /// Pending inbox entries that will never be applied, with the reason; marked rejected.
    public var rejectedEntries: [Int64: String]
    /// Pending messages whose body cannot be read, with the reason; marked poison.
    public var poisonEntries: [Int64: String]
    public var lockAction: SaveLockAction
    /// What happened since the last save, recorded as this save's version in the same
    /// transaction (kept even when the completion action deletes the instance).
    public var history: [HistoryEvent]
    /// Another version of the instance's definition it goes on under from this save (a
    /// recovery onto a fixed version); nil keeps the one it has.
    public var definition: DefinitionIdentity?

    public init(
        instanceID: UUID,
        owner: UUID,
        expectedVersion: Int64,
        snapshot: InstanceSnapshot,
        appliedEntryIDs: [Int64] = [],
        rejectedEntries: [Int64: String] = [:],
        poisonEntries: [Int64: String] = [:],
        lockAction: SaveLockAction = .keepLock,
        history: [HistoryEvent] = [],
        definition: DefinitionIdentity? = nil
    ) {
        self.instanceID = instanceID
        self.owner = owner
        self.expectedVersion = expectedVersion
        self.snapshot = snapshot
        self.appliedEntryIDs = appliedEntryIDs
        self.rejectedEntries = rejectedEntries
        self.poisonEntries = poisonEntries
        self.lockAction = lockAction
        self.history = history
        self.definition = definition
    }
}

/// The outcome of a successful save.
public struct SaveResult: Sendable, Hashable {
    /// The new version; pass it as `expectedVersion` to the next save.
    public var version: Int64
    /// Whether the completion action deleted the instance.
    public var deleted: Bool
    /// For a completing save: the inbox entries still pending, now rejected because the instance
    /// finished first (kept with the instance, never silently dropped).
    public var rejectedEntries: Int

    public init(version: Int64, deleted: Bool, rejectedEntries: Int = 0) {
        self.version = version
        self.deleted = deleted
        self.rejectedEntries = rejectedEntries
    }
}
