import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum KeyCases {
    @Sendable static func keyConflict(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let key = InstanceKey(name: "orderId", jsonValue: "42")
        let first = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))

        // Creating a second instance with the key fails and creates nothing.
        let secondID = UUID()
        let error = await expectStoreError(.keyConflict) {
            try await store.createInstance(
                CreateInstanceRequest(
                    id: secondID,
                    owner: owner.id,
                    definition: fixture.definition,
                    snapshot: ContractFixture.snapshot(keys: [InstanceKey(name: "other", jsonValue: "1"), key])
                )
            )
        }
        #expect(error?.key == key)
        await expectStoreError(.instanceNotFound) { try await store.readInstance(secondID) }
        #expect(try await store.instanceID(forKey: InstanceKey(name: "other", jsonValue: "1")) == nil)

        // Saving another instance with the key fails and changes nothing.
        let second = try await fixture.create(in: store, owner: owner)
        await expectStoreError(.keyConflict) {
            try await store.save(
                SaveRequest(
                    instanceID: second.id,
                    owner: owner.id,
                    expectedVersion: 1,
                    snapshot: ContractFixture.snapshot(state: Data([9]), keys: [key])
                )
            )
        }
        let unchanged = try await store.readInstance(second.id)
        #expect(unchanged.version == 1)
        #expect(unchanged.state == second.state)
        #expect(unchanged.keys.isEmpty)

        // Once the first instance drops the key, the second may take it.
        _ = try await store.save(
            SaveRequest(instanceID: first.id, owner: owner.id, expectedVersion: 1, snapshot: ContractFixture.snapshot())
        )
        _ = try await store.save(
            SaveRequest(
                instanceID: second.id,
                owner: owner.id,
                expectedVersion: 1,
                snapshot: ContractFixture.snapshot(keys: [key])
            )
        )
        #expect(try await store.instanceID(forKey: key) == second.id)
        // Re-saving with the same key is not a conflict with itself.
        let again = try await store.save(
            SaveRequest(
                instanceID: second.id, owner: owner.id, expectedVersion: 2,
                snapshot: ContractFixture.snapshot(keys: [key]))
        )
        #expect(again.version == 3)
    }
}
