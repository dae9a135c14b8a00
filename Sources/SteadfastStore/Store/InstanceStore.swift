import Foundation
import SteadfastCore

/// The read half of a store: queries that lock nothing and, where the database allows it, never
/// wait for a write transaction (SQLite reads on their own WAL connection).
public protocol InstanceStoreReader: Sendable {
    /// Reads an instance without locking it.
    func readInstance(_ id: UUID) async throws -> InstanceRecord

    /// Reads many instances at once (a listing's page): each present id maps to its record, or
    /// to the error its row gives, so one damaged row spoils only itself.
    func readInstances(_ ids: [UUID]) async throws -> [UUID: Result<InstanceRecord, InstanceStoreError>]

    /// The id of the instance associated with `key`, without locking it.
    func instanceID(forKey key: InstanceKey) async throws -> UUID?

    /// Lists instances (newest-updated first).
    func listInstances(_ query: InstanceQuery) async throws -> [InstanceSummary]

    /// The instance's inbox, oldest first: only pending entries, or every entry it still has
    /// (applied and rejected ones too: its history of commands).
    func inbox(for instanceID: UUID, pendingOnly: Bool) async throws -> [InboxEntry]

    /// One inbox entry by id; nil once it is gone (its instance was deleted).
    func inboxEntry(_ id: Int64) async throws -> InboxEntry?

    /// Pending inbox entries newer than `after` for the instances locked to `owner`, oldest
    /// first: how a host learns, cheaply and often, what arrived for the instances it holds.
    func pendingInbox(lockedBy owner: UUID, after: Int64) async throws -> [InboxEntry]

    /// How many inbox entries wait, in the whole store, and when the oldest was stored.
    func inboxBacklog() async throws -> InboxBacklog

    /// An instance's history after `position` (nil: from its start), oldest first, at most
    /// `limit` records. It outlives an instance the completion action deleted.
    func history(of id: UUID, after position: HistoryPosition?, limit: Int) async throws -> [HistoryRecord]

    /// The state version `version` of the instance was saved with (a revision, kept with the
    /// history of that save), decoded; nil when there is none.
    func revision(of id: UUID, version: Int64) async throws -> Data?

    /// Up to `limit` ids starting with `idPrefix` (lowercase hex) that have history, instances
    /// the completion action deleted included, so an operator can name those by prefix too.
    func historyInstanceIDs(idPrefix: String, limit: Int) async throws -> [UUID]

    /// The store's completion action (a setting recorded in the store).
    func completionAction() async throws -> InstanceCompletionAction

    /// A cheap look at whether anything changed: a number that differs from the last call's when
    /// another connection committed since (SQLite's `PRAGMA data_version`), with whether an
    /// instance of `definitions` is runnable now and the earliest future timer — read only when
    /// the number changed (`changed` false otherwise). A host calls it often to notice at once
    /// the work other processes create.
    func lookForWork(since token: Int64, definitions: Set<DefinitionIdentity>?) async throws -> WorkLook

    /// Returns when the store may have changed since `token` (a token from `lookForWork`), or
    /// after `timeout`: a store that is told of changes (PostgreSQL's notifications) returns at
    /// once; the others just wait the timeout, and the caller polls.
    func waitForChange(since token: Int64, timeout: Duration) async
}

extension InstanceStoreReader {
    public func waitForChange(since token: Int64, timeout: Duration) async {
        try? await Task.sleep(for: timeout)
    }
}

/// The store's waiting inbox entries (for metrics).
public struct InboxBacklog: Sendable, Hashable {
    /// Entries not yet applied, rejected or set aside.
    public var pending: Int
    /// When the oldest of them was stored; nil when none wait.
    public var oldestEnqueuedAt: Date?

    public init(pending: Int, oldestEnqueuedAt: Date?) {
        self.pending = pending
        self.oldestEnqueuedAt = oldestEnqueuedAt
    }
}

/// What ``InstanceStoreReader/lookForWork(since:definitions:)`` saw.
public struct WorkLook: Sendable, Hashable {
    /// Pass it to the next call.
    public var token: Int64
    /// Whether the store changed since the token passed in; when false, the rest is not read.
    public var changed: Bool
    /// Whether an instance is runnable now.
    public var runnableNow: Bool
    /// The earliest future timer among instances no live host holds.
    public var nextTimerDueTime: Date?

    public init(token: Int64, changed: Bool, runnableNow: Bool = false, nextTimerDueTime: Date? = nil) {
        self.token = token
        self.changed = changed
        self.runnableNow = runnableNow
        self.nextTimerDueTime = nextTimerDueTime
    }
}

/// The instance store contract, in the words of WF4's `SqlWorkflowInstanceStore` commands.
///
/// Every store (SQLite, PostgreSQL) implements it and passes the same contract test suite.
/// All times come from the store's injected clock. Every command is atomic: when it throws,
/// nothing changed.
public protocol InstanceStore: InstanceStoreReader {
    // MARK: Lock owners (CreateWorkflowOwner, renewal, DeleteWorkflowOwner)

    /// Registers a host as a lock owner whose lock lasts until now + `lockDuration`.
    func createLockOwner(hostID: String, lockDuration: Duration) async throws -> LockOwner

    /// Extends the owner's lock to now + its lock duration. Throws `ownerExpired` when the lock
    /// has already expired (other hosts may hold its instances: create a new owner), or
    /// `ownerNotFound`.
    func renewLockOwner(_ owner: UUID) async throws -> LockOwner

    /// Deletes the owner and releases every instance lock it holds.
    func deleteLockOwner(_ owner: UUID) async throws

    // MARK: Instances (CreateWorkflow, LoadWorkflow, LoadWorkflowByInstanceKey, SaveWorkflow)

    /// Creates an instance at version 1, locked to the request's owner, with its initial keys.
    /// Returns the stored record.
    func createInstance(_ request: CreateInstanceRequest) async throws -> InstanceRecord

    /// Loads an instance and locks it to `owner`. Throws `instanceLocked` if another live owner
    /// holds it (an expired owner's locks are free), `instanceNotFound`, `ownerExpired`;
    /// `corruptState` when its row cannot be decoded (nothing changes); `instanceQuarantined`
    /// when it was claimed by other owners more than the store's `quarantineAfter` times without
    /// a save in between: the load then faulted it (kept, with its state) instead.
    func loadInstance(_ id: UUID, owner: UUID) async throws -> LoadedInstance

    /// Loads the instance associated with `key` and locks it to `owner` (`keyNotFound` when no
    /// instance has the key).
    func loadInstance(byKey key: InstanceKey, owner: UUID) async throws -> LoadedInstance

    /// Saves a snapshot with a lock and version check, settling the inbox entries it names; see
    /// `SaveRequest`. A state larger than the store's `maxStateSize` fails with `stateTooLarge`
    /// (create too). A successful save resets the instance's claim count (see quarantine).
    func save(_ request: SaveRequest) async throws -> SaveResult

    /// Releases `owner`'s lock on the instance without saving (the classic store's unlock of an
    /// abandoned instance): its state and version stay as last saved, and any host may load it
    /// again from there. `applied` names pending inbox entries (an `abandon`) this release is
    /// the effect of; they are marked applied in the same transaction. Returns false, changing
    /// nothing, when `owner` did not hold the lock.
    @discardableResult
    func releaseLock(of instanceID: UUID, owner: UUID, applied: [Int64]) async throws -> Bool

    // MARK: Runnable-instance detection (TryLoadRunnableWorkflow)

    /// Picks up to `limit` runnable instances of `definitions` (nil: any definition) — no live
    /// owner holds them, not finished, and with work now: a control command waiting, or (when
    /// not suspended) status `running`, a timer due, or a message for an open Receive —
    /// earliest due first, and locks them to `owner`, all in one transaction, with one clock
    /// reading that also gives the batch's `nextTimerDueTime`. A claimed row that cannot be
    /// resumed (its state cannot be decoded, or it is quarantined) is faulted in place, its state
    /// kept, and listed in `faulted`; it never stops the rest of the batch.
    ///
    /// A timer due within `lookahead` of now counts as due (a host loads such an instance
    /// ahead of time and fires its timer from memory, on time), and `nextTimerDueTime` is the
    /// earliest after that.
    func tryLoadRunnableInstances(
        owner: UUID, limit: Int, definitions: Set<DefinitionIdentity>?, lookahead: Duration
    ) async throws -> RunnableBatch

    /// Marks as blocked the instances with work now whose definition name is among
    /// `definitions` but whose exact version and content are not (edited without a new version,
    /// or a version no longer deployed): shown as blocked, never faulted. Locks nothing and
    /// bumps no version; the next save of the instance clears the mark.
    func markBlockedInstances(hosting definitions: Set<DefinitionIdentity>) async throws

    /// The earliest moment after now at which an instance of `definitions` becomes runnable: a
    /// timer of an unsuspended instance no live owner holds falls due, or the lock expires on an
    /// instance with work waiting (its host died). Arm the next detection poll at
    /// min(period, this − now).
    func nextTimerDueTime(definitions: Set<DefinitionIdentity>?) async throws -> Date?

    // MARK: The inbox

    /// Stores a message or control command for an instance, whoever holds it; it stays pending
    /// until a save settles it. A client id already used for the instance stores nothing and
    /// returns that entry. Throws `instanceNotFound`, or `instanceFinished`.
    func enqueue(_ command: InboxEntry.Command, for instanceID: UUID, clientID: String?) async throws -> InboxEntry

    /// The same, for the instance associated with `key` (`keyNotFound` otherwise).
    func enqueue(_ command: InboxEntry.Command, forKey key: InstanceKey, clientID: String?) async throws
        -> InboxEntry

    // MARK: Administration

    /// Deletes one instance and everything attached to it. Throws `instanceLocked` if a live
    /// owner holds it, `instanceNotFound` if there is none.
    func deleteInstance(_ id: UUID) async throws

    /// The ids of the instances a purge with this filter would delete now.
    func purgeCandidates(_ filter: PurgeFilter) async throws -> [UUID]

    /// Deletes every instance the filter selects that no live owner holds, with its history;
    /// returns how many.
    func purgeInstances(_ filter: PurgeFilter) async throws -> Int

    /// Deletes the history of up to `limit` instances whose history ended (they completed,
    /// faulted, were terminated or canceled) before `cutoff`; returns how many.
    func pruneHistory(endedBefore cutoff: Date, limit: Int) async throws -> Int

    /// Records the store's completion action; every process that finishes an instance uses it.
    func setCompletionAction(_ action: InstanceCompletionAction) async throws

    /// Finishes queued work and releases the store's connections; later calls fail with
    /// `storeUnavailable`.
    func close() async
}

extension InstanceStore {
    /// Releases `owner`'s lock without saving (see ``releaseLock(of:owner:applied:)``).
    @discardableResult
    public func releaseLock(of instanceID: UUID, owner: UUID) async throws -> Bool {
        try await releaseLock(of: instanceID, owner: owner, applied: [])
    }

    /// Claims runnable instances with timers due now (see
    /// ``tryLoadRunnableInstances(owner:limit:definitions:lookahead:)``).
    public func tryLoadRunnableInstances(owner: UUID, limit: Int, definitions: Set<DefinitionIdentity>?)
        async throws -> RunnableBatch
    {
        try await tryLoadRunnableInstances(owner: owner, limit: limit, definitions: definitions, lookahead: .zero)
    }

    /// Picks one runnable instance of any definition (see
    /// ``tryLoadRunnableInstances(owner:limit:definitions:lookahead:)``).
    public func tryLoadRunnableInstance(owner: UUID) async throws -> LoadedInstance? {
        try await tryLoadRunnableInstances(owner: owner, limit: 1, definitions: nil).loaded.first
    }

    /// Stores a message for an instance (see ``enqueue(_:for:clientID:)``).
    public func enqueueMessage(for id: UUID, operation: String, body: Data, clientID: String? = nil) async throws
        -> InboxEntry
    {
        try await enqueue(.message(operation: operation, body: body), for: id, clientID: clientID)
    }
}
