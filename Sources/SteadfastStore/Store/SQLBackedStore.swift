import Foundation
import SteadfastCore

/// A store whose commands are the shared SQL (`SQLInstanceCommands`) run by workers: writes
/// through `writer` (group commit), reads through `reader` (a connection of their own where the
/// database allows, so a listing never queues behind a write). A backend supplies the two
/// workers and what is its own (`lookForWork`, `close`); every command comes from here.
public protocol SQLBackedStore: InstanceStore {
    var commands: SQLInstanceCommands { get }
    var writer: SQLWorker { get }
    var reader: SQLWorker { get }
}

extension SQLBackedStore {
    /// Runs a command in a write transaction (shared with other writes that arrive together);
    /// with `pipelined`, sent as those statements where the database allows (see `SQLWorker`).
    public func write<T: Sendable>(
        pipelined: @autoclosure () -> SQLPipelined<T>? = nil,
        _ body: @escaping @Sendable (SQLInstanceCommands, any SQLConnection) throws -> T
    ) async throws -> T {
        let commands = self.commands
        return try await writer.write(pipelined: writer.pipelines ? pipelined() : nil) { try body(commands, $0) }
    }

    /// Runs a read-only command on the reader.
    public func read<T: Sendable>(_ body: @escaping @Sendable (SQLInstanceCommands, any SQLConnection) throws -> T)
        async throws -> T
    {
        let commands = self.commands
        return try await reader.write { try body(commands, $0) }
    }

    public func createLockOwner(hostID: String, lockDuration: Duration) async throws -> LockOwner {
        try await write { commands, db in
            try commands.createLockOwner(hostID: hostID, lockDuration: lockDuration, on: db)
        }
    }

    public func renewLockOwner(_ owner: UUID) async throws -> LockOwner {
        try await write { commands, db in try commands.renewLockOwner(owner, on: db) }
    }

    public func deleteLockOwner(_ owner: UUID) async throws {
        try await write { commands, db in try commands.deleteLockOwner(owner, on: db) }
    }

    public func createInstance(_ request: CreateInstanceRequest) async throws -> InstanceRecord {
        try await write(pipelined: commands.pipelinedCreate(request)) { commands, db in
            try commands.createInstance(request, on: db)
        }
    }

    public func loadInstance(_ id: UUID, owner: UUID) async throws -> LoadedInstance {
        // A quarantine is committed first, then thrown.
        try await write { commands, db in try commands.loadInstance(id, owner: owner, on: db) }.get()
    }

    public func loadInstance(byKey key: InstanceKey, owner: UUID) async throws -> LoadedInstance {
        try await write { commands, db in try commands.loadInstance(byKey: key, owner: owner, on: db) }.get()
    }

    public func save(_ request: SaveRequest) async throws -> SaveResult {
        // Where statements are not pipelined, what the save writes is still encoded here, on
        // the caller's thread: the one writer thread, which every commit waits for, then only
        // runs the statements.
        let pipelined = writer.pipelines ? commands.pipelinedSave(request, dialect: writer.dialect) : nil
        // (A completion is prepared in its transaction: it may delete rather than write.)
        let prepared = pipelined == nil && request.lockAction != .complete ? try? commands.prepare(request) : nil
        return try await write(pipelined: pipelined) { commands, db in
            try commands.save(request, prepared: prepared, on: db)
        }
    }

    public func releaseLock(of instanceID: UUID, owner: UUID, applied: [Int64]) async throws -> Bool {
        try await write { commands, db in
            try commands.releaseLock(of: instanceID, owner: owner, applied: applied, on: db)
        }
    }

    public func tryLoadRunnableInstances(
        owner: UUID, limit: Int, definitions: Set<DefinitionIdentity>?, lookahead: Duration
    ) async throws -> RunnableBatch {
        try await write { commands, db in
            try commands.tryLoadRunnableInstances(
                owner: owner, limit: limit, definitions: definitions, lookahead: lookahead, on: db)
        }
    }

    public func markBlockedInstances(hosting definitions: Set<DefinitionIdentity>) async throws {
        try await write { commands, db in try commands.markBlockedInstances(hosting: definitions, on: db) }
    }

    public func nextTimerDueTime(definitions: Set<DefinitionIdentity>?) async throws -> Date? {
        try await read { commands, db in try commands.nextTimerDueTime(definitions: definitions, on: db) }
    }

    public func enqueue(_ command: InboxEntry.Command, for instanceID: UUID, clientID: String?) async throws
        -> InboxEntry
    {
        try await write { commands, db in
            try commands.enqueue(command, for: instanceID, clientID: clientID, on: db)
        }
    }

    public func enqueue(_ command: InboxEntry.Command, forKey key: InstanceKey, clientID: String?) async throws
        -> InboxEntry
    {
        try await write { commands, db in try commands.enqueue(command, forKey: key, clientID: clientID, on: db) }
    }

    public func deleteInstance(_ id: UUID) async throws {
        try await write { commands, db in try commands.deleteInstance(id, on: db) }
    }

    public func purgeCandidates(_ filter: PurgeFilter) async throws -> [UUID] {
        try await read { commands, db in try commands.purgeCandidates(filter, on: db) }
    }

    public func purgeInstances(_ filter: PurgeFilter) async throws -> Int {
        try await write { commands, db in try commands.purgeInstances(filter, on: db) }
    }

    public func pruneHistory(endedBefore cutoff: Date, limit: Int) async throws -> Int {
        try await write { commands, db in try commands.pruneHistory(endedBefore: cutoff, limit: limit, on: db) }
    }

    public func revision(of id: UUID, version: Int64) async throws -> Data? {
        try await read { commands, db in try commands.revision(of: id, version: version, on: db) }
    }

    public func historyInstanceIDs(idPrefix: String, limit: Int) async throws -> [UUID] {
        try await read { commands, db in try commands.historyInstanceIDs(idPrefix: idPrefix, limit: limit, on: db) }
    }

    public func history(of id: UUID, after position: HistoryPosition?, limit: Int) async throws -> [HistoryRecord] {
        try await read { commands, db in try commands.history(of: id, after: position, limit: limit, on: db) }
    }

    public func setCompletionAction(_ action: InstanceCompletionAction) async throws {
        try await write { commands, db in try commands.setCompletionAction(action, on: db) }
    }

    // MARK: Reads

    public func readInstance(_ id: UUID) async throws -> InstanceRecord {
        try await read { commands, db in try commands.readInstance(id, on: db) }
    }

    public func readInstances(_ ids: [UUID]) async throws -> [UUID: Result<InstanceRecord, InstanceStoreError>] {
        try await read { commands, db in try commands.readInstances(ids, on: db) }
    }

    public func instanceID(forKey key: InstanceKey) async throws -> UUID? {
        try await read { commands, db in try commands.instanceID(forKey: key, on: db) }
    }

    public func listInstances(_ query: InstanceQuery) async throws -> [InstanceSummary] {
        try await read { commands, db in try commands.listInstances(query, on: db) }
    }

    public func inbox(for instanceID: UUID, pendingOnly: Bool) async throws -> [InboxEntry] {
        try await read { commands, db in try commands.inbox(for: instanceID, pendingOnly: pendingOnly, on: db) }
    }

    public func inboxEntry(_ id: Int64) async throws -> InboxEntry? {
        try await read { commands, db in try commands.inboxEntry(id, on: db) }
    }

    public func pendingInbox(lockedBy owner: UUID, after: Int64) async throws -> [InboxEntry] {
        try await read { commands, db in try commands.pendingInbox(lockedBy: owner, after: after, on: db) }
    }

    public func inboxBacklog() async throws -> InboxBacklog {
        try await read { commands, db in try commands.inboxBacklog(on: db) }
    }

    public func completionAction() async throws -> InstanceCompletionAction {
        try await read { commands, db in try commands.completionAction(on: db) }
    }
}
