import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum AdminCases {
    @Sendable static func listAndQuery(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteNothing)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(600))
        var ids: [UUID] = []
        for index in 0..<5 {
            fixture.clock.advance(by: .seconds(1))
            let record = try await store.createInstance(
                CreateInstanceRequest(
                    owner: owner.id,
                    definition: DefinitionIdentity(name: index < 3 ? "order" : "loan", version: "1", fingerprint: "f"),
                    snapshot: ContractFixture.snapshot(
                        status: index.isMultiple(of: 2) ? .idle : .running,
                        properties: ["customer": "c\(index % 2)"]
                    )
                )
            )
            ids.append(record.id)
        }
        let all = try await store.listInstances(.all)
        #expect(all.map(\.id) == ids.reversed(), "newest-updated first")
        #expect(
            Set(try await store.listInstances(InstanceQuery(statuses: [.idle])).map(\.id)) == [ids[0], ids[2], ids[4]])
        #expect(try await store.listInstances(InstanceQuery(statuses: [])).isEmpty)
        #expect(
            Set(try await store.listInstances(InstanceQuery(definitionName: "loan")).map(\.id)) == [ids[3], ids[4]])
        #expect(try await store.listInstances(InstanceQuery(limit: 2)).map(\.id) == [ids[4], ids[3]])
        let byProperty = try await store.listInstances(
            InstanceQuery(
                statuses: [.idle, .running],
                definitionName: "order",
                promotedProperty: PromotedPropertyFilter(name: "customer", value: "c1")
            )
        )
        #expect(byProperty.map(\.id) == [ids[1]])
        #expect(all.allSatisfy { $0.lock?.ownerID == owner.id })
        #expect(all.allSatisfy { $0.version == 1 })
    }

    @Sendable static func deleteAndPurge(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteNothing)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let key = InstanceKey(name: "k", jsonValue: "1")
        let locked = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
        _ = try await store.enqueueMessage(for: locked.id, operation: "op", body: Data())

        // Deleting an instance a live owner holds is refused.
        await expectStoreError(.instanceLocked) { try await store.deleteInstance(locked.id) }
        await expectStoreError(.instanceNotFound) { try await store.deleteInstance(UUID()) }

        // Once unlocked it can be deleted, with its keys and messages.
        _ = try await store.save(
            SaveRequest(
                instanceID: locked.id,
                owner: owner.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(keys: [key]),
                lockAction: .unlock
            )
        )
        try await store.deleteInstance(locked.id)
        await expectStoreError(.instanceNotFound) { try await store.readInstance(locked.id) }
        #expect(try await store.instanceID(forKey: key) == nil)
        #expect(try await store.inbox(for: locked.id, pendingOnly: true).isEmpty)

        // Purge removes finished instances (optionally only older ones), never running ones.
        var finished: [UUID] = []
        for status in [InstanceStatus.completed, .canceled, .terminated] {
            let record = try await fixture.create(in: store, owner: owner)
            _ = try await store.save(
                SaveRequest(
                    instanceID: record.id,
                    owner: owner.id,
                    expectedVersion: 1,
                    snapshot: ContractFixture.snapshot(status: status),
                    lockAction: .complete
                )
            )
            finished.append(record.id)
            fixture.clock.advance(by: .seconds(10))
        }
        let running = try await fixture.createUnlocked(in: store, owner: owner)
        let cutoff = fixture.clock.now.addingTimeInterval(-25)
        #expect(try await store.purgeInstances(PurgeFilter(updatedBefore: cutoff)) == 1)
        #expect(try await store.purgeInstances(PurgeFilter(statuses: [.completed])) == 0)
        #expect(try await store.purgeInstances(PurgeFilter(statuses: [.canceled])) == 1)
        #expect(try await store.purgeInstances(PurgeFilter()) == 1)
        #expect(try await store.listInstances(.all).map(\.id) == [running])
    }
}
