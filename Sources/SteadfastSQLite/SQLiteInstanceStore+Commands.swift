import Foundation
import SteadfastCore
import SteadfastStore

// Writes go through the writer (group commit); reads through the reader's WAL snapshot.
extension SQLiteInstanceStore {
    public func createLockOwner(hostID: String, lockDuration: Duration) async throws -> LockOwner {
        try await worker.write { [commands] in
            try commands.createLockOwner(hostID: hostID, lockDuration: lockDuration, on: $0)
        }
    }

    public func renewLockOwner(_ owner: UUID) async throws -> LockOwner {
        try await worker.write { [commands] in try commands.renewLockOwner(owner, on: $0) }
    }

    public func deleteLockOwner(_ owner: UUID) async throws {
        try await worker.write { [commands] in try commands.deleteLockOwner(owner, on: $0) }
    }

    public func createInstance(_ request: CreateInstanceRequest) async throws -> InstanceRecord {
        try await worker.write { [commands] in try commands.createInstance(request, on: $0) }
    }

    public func loadInstance(_ id: UUID, owner: UUID) async throws -> LoadedInstance {
        // A quarantine is committed first, then thrown.
        try await worker.write { [commands] in try commands.loadInstance(id, owner: owner, on: $0) }.get()
    }

    public func loadInstance(byKey key: InstanceKey, owner: UUID) async throws -> LoadedInstance {
        try await worker.write { [commands] in try commands.loadInstance(byKey: key, owner: owner, on: $0) }.get()
    }

    public func save(_ request: SaveRequest) async throws -> SaveResult {
        try await worker.write { [commands] in try commands.save(request, on: $0) }
    }

    public func releaseLock(of instanceID: UUID, owner: UUID, applied: [Int64]) async throws -> Bool {
        try await worker.write { [commands] in
            try commands.releaseLock(of: instanceID, owner: owner, applied: applied, on: $0)
        }
    }

    public func tryLoadRunnableInstances(
        owner: UUID, limit: Int, definitions: Set<DefinitionIdentity>?, lookahead: Duration
    ) async throws -> RunnableBatch {
        try await worker.write { [commands] in
            try commands.tryLoadRunnableInstances(
                owner: owner, limit: limit, definitions: definitions, lookahead: lookahead, on: $0)
        }
    }

    public func markBlockedInstances(hosting definitions: Set<DefinitionIdentity>) async throws {
        try await worker.write { [commands] in try commands.markBlockedInstances(hosting: definitions, on: $0) }
    }

    public func nextTimerDueTime(definitions: Set<DefinitionIdentity>?) async throws -> Date? {
        try await reader.write { [commands] in try commands.nextTimerDueTime(definitions: definitions, on: $0) }
    }

    public func enqueue(_ command: InboxEntry.Command, for instanceID: UUID, clientID: String?) async throws
        -> InboxEntry
    {
        try await worker.write { [commands] in
            try commands.enqueue(command, for: instanceID, clientID: clientID, on: $0)
        }
    }

    public func enqueue(_ command: InboxEntry.Command, forKey key: InstanceKey, clientID: String?) async throws
        -> InboxEntry
    {
        try await worker.write { [commands] in try commands.enqueue(command, forKey: key, clientID: clientID, on: $0) }
    }

    public func deleteInstance(_ id: UUID) async throws {
        try await worker.write { [commands] in try commands.deleteInstance(id, on: $0) }
    }

    public func purgeCandidates(_ filter: PurgeFilter) async throws -> [UUID] {
        try await reader.write { [commands] in try commands.purgeCandidates(filter, on: $0) }
    }

    public func purgeInstances(_ filter: PurgeFilter) async throws -> Int {
        try await worker.write { [commands] in try commands.purgeInstances(filter, on: $0) }
    }

    public func setCompletionAction(_ action: InstanceCompletionAction) async throws {
        try await worker.write { [commands] in try commands.setCompletionAction(action, on: $0) }
    }

    // MARK: Reads

    public func readInstance(_ id: UUID) async throws -> InstanceRecord {
        try await reader.write { [commands] in try commands.readInstance(id, on: $0) }
    }

    public func readInstances(_ ids: [UUID]) async throws -> [UUID: Result<InstanceRecord, InstanceStoreError>] {
        try await reader.write { [commands] in try commands.readInstances(ids, on: $0) }
    }

    public func instanceID(forKey key: InstanceKey) async throws -> UUID? {
        try await reader.write { [commands] in try commands.instanceID(forKey: key, on: $0) }
    }

    public func listInstances(_ query: InstanceQuery) async throws -> [InstanceSummary] {
        try await reader.write { [commands] in try commands.listInstances(query, on: $0) }
    }

    public func inbox(for instanceID: UUID, pendingOnly: Bool) async throws -> [InboxEntry] {
        try await reader.write { [commands] in try commands.inbox(for: instanceID, pendingOnly: pendingOnly, on: $0) }
    }

    public func inboxEntry(_ id: Int64) async throws -> InboxEntry? {
        try await reader.write { [commands] in try commands.inboxEntry(id, on: $0) }
    }

    public func pendingInbox(lockedBy owner: UUID, after: Int64) async throws -> [InboxEntry] {
        try await reader.write { [commands] in try commands.pendingInbox(lockedBy: owner, after: after, on: $0) }
    }

    public func completionAction() async throws -> InstanceCompletionAction {
        try await reader.write { [commands] in try commands.completionAction(on: $0) }
    }
}

extension SQLiteInstanceStore {
    public func lookForWork(since token: Int64, definitions: Set<DefinitionIdentity>?) async throws -> WorkLook {
        try await reader.standalone { [commands] db in
            // data_version changes when another connection (another process, or this store's
            // writer) commits; reading it costs no I/O.
            guard case .integer(let version)? = try db.query("PRAGMA data_version", []).first?[0] else {
                throw InstanceStoreError(.storeUnavailable, "SQLite returned no data_version.")
            }
            guard version != token else { return WorkLook(token: version, changed: false) }
            try db.executeScript("BEGIN")
            defer { try? db.executeScript("COMMIT") }
            return WorkLook(
                token: version, changed: true,
                runnableNow: try commands.hasRunnableInstances(definitions: definitions, on: db),
                nextTimerDueTime: try commands.nextTimerDueTime(definitions: definitions, on: db))
        }
    }
}
