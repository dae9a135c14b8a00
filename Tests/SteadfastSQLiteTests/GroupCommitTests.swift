import Foundation
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastSQLite

@Suite("Group commit")
struct GroupCommitTests {
    @Test func concurrentSavesShareTransactions() async throws {
        let database = try SQLiteContractDatabase()
        let store = try await database.openSQLiteStore()
        let owner = try await store.createLockOwner(hostID: "h", lockDuration: .seconds(600))
        let count = 200
        var ids: [UUID] = []
        for _ in 0..<count {
            let record = try await store.createInstance(
                CreateInstanceRequest(
                    owner: owner.id,
                    definition: DefinitionIdentity(name: "d", version: "1", fingerprint: "test"),
                    snapshot: InstanceSnapshot(state: Data([0]), status: .running)
                )
            )
            ids.append(record.id)
        }
        let before = store.groupCommitStatistics
        // One save in the batch has a stale version: it must fail alone.
        let staleID = ids[count / 2]
        let results = await withTaskGroup(of: (UUID, Result<SaveResult, InstanceStoreError>).self) { group in
            for id in ids {
                group.addTask {
                    let request = SaveRequest(
                        instanceID: id,
                        owner: owner.id,
                        expectedVersion: id == staleID ? 7 : 1,
                        snapshot: InstanceSnapshot(state: Data(id.uuidString.utf8), status: .idle),
                        lockAction: .unlock
                    )
                    do {
                        return (id, .success(try await store.save(request)))
                    } catch {
                        return (id, .failure(error as! InstanceStoreError))
                    }
                }
            }
            var all: [UUID: Result<SaveResult, InstanceStoreError>] = [:]
            for await (id, result) in group { all[id] = result }
            return all
        }
        let after = store.groupCommitStatistics
        let transactions = after.transactions - before.transactions
        #expect(after.committedJobs - before.committedJobs == count - 1)
        #expect(transactions < count - 1, "\(transactions) transactions for \(count - 1) saves")
        #expect(after.largestBatch > 1)

        for id in ids {
            let record = try await store.readInstance(id)
            if id == staleID {
                guard case .failure(let error) = results[id] else {
                    Issue.record("the stale save succeeded")
                    continue
                }
                #expect(error.code == .versionConflict)
                #expect(record.version == 1)
                #expect(record.state == Data([0]))
            } else {
                #expect((try? results[id]?.get())?.version == 2)
                #expect(record.version == 2)
                #expect(record.state == Data(id.uuidString.utf8))
                #expect(record.summary.lock == nil)
            }
        }
        await database.destroy()
    }
}
