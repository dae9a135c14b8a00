import Foundation
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastSQLite

/// Two stores on one file stand in for two host processes: each has its own connection and
/// thread, and only SQLite's file locks and the lock rows coordinate them.
@Suite("Several hosts on one SQLite file")
struct MultiProcessTests {
    @Test func onlyOneHostLoadsAnInstance() async throws {
        let database = try SQLiteContractDatabase()
        let hostA = try await database.openSQLiteStore()
        let hostB = try await database.openSQLiteStore()
        let ownerA = try await hostA.createLockOwner(hostID: "a", lockDuration: .seconds(60))
        let ownerB = try await hostB.createLockOwner(hostID: "b", lockDuration: .seconds(60))
        var ids: [UUID] = []
        for _ in 0..<40 {
            let record = try await hostA.createInstance(
                CreateInstanceRequest(
                    owner: ownerA.id,
                    definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "test"),
                    snapshot: InstanceSnapshot(state: Data([1]), status: .idle)
                )
            )
            _ = try await hostA.save(
                SaveRequest(
                    instanceID: record.id,
                    owner: ownerA.id,
                    expectedVersion: 1,
                    snapshot: InstanceSnapshot(state: Data([1]), status: .idle),
                    lockAction: .unlock
                )
            )
            ids.append(record.id)
        }
        // Both hosts race to load every instance.
        let winners = try await withThrowingTaskGroup(of: (UUID, String?).self) { group in
            for id in ids {
                for (store, owner, name) in [(hostA, ownerA, "a"), (hostB, ownerB, "b")] {
                    group.addTask {
                        do {
                            _ = try await store.loadInstance(id, owner: owner.id)
                            return (id, name)
                        } catch let error as InstanceStoreError where error.code == .instanceLocked {
                            return (id, nil)
                        }
                    }
                }
            }
            var winners: [UUID: [String]] = [:]
            for try await (id, name) in group {
                if let name { winners[id, default: []].append(name) }
            }
            return winners
        }
        for id in ids {
            #expect(winners[id]?.count == 1, "instance \(id) loaded by \(winners[id] ?? [])")
            let lock = try await hostB.readInstance(id).summary.lock
            #expect(lock?.hostID == winners[id]?.first)
        }
        await database.destroy()
    }

    @Test func runnableDetectionHandsEachInstanceToOneHost() async throws {
        let database = try SQLiteContractDatabase()
        let hostA = try await database.openSQLiteStore()
        let hostB = try await database.openSQLiteStore()
        let ownerA = try await hostA.createLockOwner(hostID: "a", lockDuration: .seconds(60))
        let ownerB = try await hostB.createLockOwner(hostID: "b", lockDuration: .seconds(60))
        var ids: Set<UUID> = []
        for _ in 0..<30 {
            let snapshot = InstanceSnapshot(state: Data(), status: .idle, nextTimerAt: Date(timeIntervalSinceNow: -1))
            let record = try await hostA.createInstance(
                CreateInstanceRequest(
                    owner: ownerA.id, definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "test"),
                    snapshot: snapshot)
            )
            _ = try await hostA.save(
                SaveRequest(
                    instanceID: record.id, owner: ownerA.id, expectedVersion: 1, snapshot: snapshot, lockAction: .unlock
                )
            )
            ids.insert(record.id)
        }
        let picked = try await withThrowingTaskGroup(of: [UUID].self) { group in
            for (store, owner) in [(hostA, ownerA), (hostB, ownerB)] {
                group.addTask {
                    var mine: [UUID] = []
                    while let loaded = try await store.tryLoadRunnableInstance(owner: owner.id) {
                        mine.append(loaded.id)
                    }
                    return mine
                }
            }
            var all: [UUID] = []
            for try await mine in group { all += mine }
            return all
        }
        #expect(picked.count == ids.count, "no instance handed out twice")
        #expect(Set(picked) == ids)
        await database.destroy()
    }
}
