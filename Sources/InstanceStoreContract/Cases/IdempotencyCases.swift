import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum IdempotencyCases {
    /// A create with an idempotency key is made once: a retry names the first instance (even
    /// after it is deleted), the same key with another request is refused, concurrent creates
    /// with one key have one winner, and an expired key is a new request.
    @Sendable static func createdOncePerKey(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(3600))
        func create(_ key: String, hash: String = "h1", id: UUID = UUID()) async throws -> InstanceRecord {
            try await store.createInstance(
                CreateInstanceRequest(
                    id: id, owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                    idempotency: IdempotencyKey(key: key, requestHash: hash)))
        }

        let first = try await create("order-7")
        let retryID = UUID()
        let retry = await expectStoreError(.duplicateRequest) { try await create("order-7", id: retryID) }
        #expect(retry?.instanceID == first.id)
        await expectStoreError(.instanceNotFound) { try await store.readInstance(retryID) }
        let reused = await expectStoreError(.idempotencyKeyReused) { try await create("order-7", hash: "h2") }
        #expect(reused?.instanceID == first.id)
        await expectStoreError(.invalidRequest) { try await create("") }
        await expectStoreError(.invalidRequest) { try await create(String(repeating: "k", count: 256)) }

        // The key outlives its instance.
        _ = try await store.save(
            SaveRequest(
                instanceID: first.id, owner: owner.id, expectedVersion: 1, snapshot: ContractFixture.snapshot(),
                lockAction: .unlock))
        try await store.deleteInstance(first.id)
        #expect(await expectStoreError(.duplicateRequest) { try await create("order-7") }?.instanceID == first.id)

        // A create refused for another reason leaves its key free.
        let key = InstanceKey(name: "orderId", jsonValue: "8")
        _ = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))
        await expectStoreError(.keyConflict) {
            try await store.createInstance(
                CreateInstanceRequest(
                    owner: owner.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(keys: [key]),
                    idempotency: IdempotencyKey(key: "order-8", requestHash: "h1")))
        }
        let eight = try await create("order-8")
        #expect(try await store.readInstance(eight.id).version == 1)

        // Many creates with one key at once: exactly one instance, and every other names it.
        let outcomes = try await withThrowingTaskGroup(of: Result<UUID, InstanceStoreError>.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    do { return .success(try await create("order-9").id) } catch let error as InstanceStoreError {
                        return .failure(error)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1, "\(outcomes)")
        for case .failure(let error) in outcomes {
            #expect(error.code == .duplicateRequest && error.instanceID == winners.first, "\(error)")
        }

        // Past the retention, the key is a new request's; expired keys are cleaned up.
        fixture.clock.advance(by: InstanceStoreOptions().idempotencyKeyRetention + .seconds(1))
        let renewed = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(3600))
        let again = try await store.createInstance(
            CreateInstanceRequest(
                owner: renewed.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                idempotency: IdempotencyKey(key: "order-7", requestHash: "h2")))
        #expect(again.id != first.id)
        let nine = try await store.createInstance(
            CreateInstanceRequest(
                owner: renewed.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                idempotency: IdempotencyKey(key: "order-9", requestHash: "h1")))
        #expect(!winners.contains(nine.id))
        // And the new holder of a key is what a retry then names.
        let late = await expectStoreError(.duplicateRequest) {
            try await store.createInstance(
                CreateInstanceRequest(
                    owner: renewed.id, definition: fixture.definition, snapshot: ContractFixture.snapshot(),
                    idempotency: IdempotencyKey(key: "order-7", requestHash: "h2")))
        }
        #expect(late?.instanceID == again.id)
    }
}
