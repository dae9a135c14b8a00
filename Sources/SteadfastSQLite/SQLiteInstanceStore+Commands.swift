import Foundation
import SteadfastStore

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
        try await worker.write { [commands] in try commands.loadInstance(id, owner: owner, on: $0) }
    }

    public func loadInstance(byKey key: InstanceKey, owner: UUID) async throws -> LoadedInstance {
        try await worker.write { [commands] in try commands.loadInstance(byKey: key, owner: owner, on: $0) }
    }

    public func save(_ request: SaveRequest) async throws -> SaveResult {
        try await worker.write { [commands] in try commands.save(request, on: $0) }
    }

    public func tryLoadRunnableInstances(owner: UUID, limit: Int) async throws -> [LoadedInstance] {
        try await worker.write { [commands] in try commands.tryLoadRunnableInstances(owner: owner, limit: limit, on: $0)
        }
    }

    public func nextTimerDueTime() async throws -> Date? {
        try await worker.write { [commands] in try commands.nextTimerDueTime(on: $0) }
    }

    public func enqueueMessage(for instanceID: UUID, operation: String, body: Data) async throws -> InstanceMessage {
        try await worker.write { [commands] in
            try commands.enqueueMessage(for: instanceID, operation: operation, body: body, on: $0)
        }
    }

    public func enqueueMessage(forKey key: InstanceKey, operation: String, body: Data) async throws
        -> InstanceMessage
    {
        try await worker.write { [commands] in
            try commands.enqueueMessage(forKey: key, operation: operation, body: body, on: $0)
        }
    }

    public func pendingMessages(for instanceID: UUID) async throws -> [InstanceMessage] {
        try await worker.write { [commands] in try commands.pendingMessages(for: instanceID, on: $0) }
    }

    public func readInstance(_ id: UUID) async throws -> InstanceRecord {
        try await worker.write { [commands] in try commands.readInstance(id, on: $0) }
    }

    public func instanceID(forKey key: InstanceKey) async throws -> UUID? {
        try await worker.write { [commands] in try commands.instanceID(forKey: key, on: $0) }
    }

    public func listInstances(_ query: InstanceQuery) async throws -> [InstanceSummary] {
        try await worker.write { [commands] in try commands.listInstances(query, on: $0) }
    }

    public func deleteInstance(_ id: UUID) async throws {
        try await worker.write { [commands] in try commands.deleteInstance(id, on: $0) }
    }

    public func purgeInstances(_ filter: PurgeFilter) async throws -> Int {
        try await worker.write { [commands] in try commands.purgeInstances(filter, on: $0) }
    }
}
