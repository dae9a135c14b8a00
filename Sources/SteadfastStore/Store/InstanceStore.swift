import Foundation

/// The instance store contract, in the words of WF4's `SqlWorkflowInstanceStore` commands.
///
/// Every store (SQLite, PostgreSQL) implements it and passes the same contract test suite.
/// All times come from the store's injected clock. Every command is atomic: when it throws,
/// nothing changed.
public protocol InstanceStore: Sendable {
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
    /// holds it (an expired owner's locks are free), `instanceNotFound`, `ownerExpired`.
    func loadInstance(_ id: UUID, owner: UUID) async throws -> LoadedInstance

    /// Loads the instance associated with `key` and locks it to `owner` (`keyNotFound` when no
    /// instance has the key).
    func loadInstance(byKey key: InstanceKey, owner: UUID) async throws -> LoadedInstance

    /// Saves a snapshot with a lock and version check; see `SaveRequest`.
    func save(_ request: SaveRequest) async throws -> SaveResult

    // MARK: Runnable-instance detection (TryLoadRunnableWorkflow)

    /// Picks up to `limit` runnable instances — unlocked or their owner's lock expired, not
    /// suspended, not finished, with a timer due now, a message waiting, or status `running`
    /// (work to do now: its last host died after saving it mid-run) — earliest due first,
    /// and locks them to `owner`, all in one transaction.
    func tryLoadRunnableInstances(owner: UUID, limit: Int) async throws -> [LoadedInstance]

    /// The earliest timer due after now among instances no live owner holds, not suspended,
    /// not finished: arm the next detection poll at min(period, this − now).
    func nextTimerDueTime() async throws -> Date?

    // MARK: Messages

    /// Queues a message for an instance; it stays pending until a save consumes it.
    func enqueueMessage(for instanceID: UUID, operation: String, body: Data) async throws -> InstanceMessage

    /// Queues a message for the instance associated with `key` (`keyNotFound` otherwise).
    func enqueueMessage(forKey key: InstanceKey, operation: String, body: Data) async throws -> InstanceMessage

    /// The messages pending for an instance, oldest first.
    func pendingMessages(for instanceID: UUID) async throws -> [InstanceMessage]

    // MARK: Query and administration

    /// Reads an instance without locking it.
    func readInstance(_ id: UUID) async throws -> InstanceRecord

    /// The id of the instance associated with `key`, without locking it.
    func instanceID(forKey key: InstanceKey) async throws -> UUID?

    /// Lists instances (newest-updated first).
    func listInstances(_ query: InstanceQuery) async throws -> [InstanceSummary]

    /// Deletes one instance and everything attached to it. Throws `instanceLocked` if a live
    /// owner holds it, `instanceNotFound` if there is none.
    func deleteInstance(_ id: UUID) async throws

    /// Deletes every instance the filter selects that no live owner holds; returns how many.
    func purgeInstances(_ filter: PurgeFilter) async throws -> Int

    /// Finishes queued work and releases the store's connections; later calls fail with
    /// `storeUnavailable`.
    func close() async
}

extension InstanceStore {
    /// Picks one runnable instance (see ``tryLoadRunnableInstances(owner:limit:)``).
    public func tryLoadRunnableInstance(owner: UUID) async throws -> LoadedInstance? {
        try await tryLoadRunnableInstances(owner: owner, limit: 1).first
    }
}
