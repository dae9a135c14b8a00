import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum MessageCases {
    @Sendable static func consumedOnce(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        #expect(try await store.inboxBacklog() == InboxBacklog(pending: 0, oldestEnqueuedAt: nil))
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let key = InstanceKey(name: "orderId", jsonValue: "42")
        let id = try await fixture.createUnlocked(
            in: store, owner: owner, snapshot: ContractFixture.snapshot(keys: [key]))

        let first = try await store.enqueueMessage(for: id, operation: "approve", body: Data([0, 1, 2, 255]))
        fixture.clock.advance(by: .seconds(1))
        let second = try await store.enqueue(
            .message(operation: "comment", body: Data("hi".utf8)), forKey: key, clientID: nil)
        #expect(first.id < second.id)
        #expect(first.instanceID == id && second.instanceID == id)
        #expect(second.enqueuedAt == fixture.clock.now)
        #expect(try await store.inbox(for: id, pendingOnly: true) == [first, second])
        #expect(try await store.inboxBacklog() == InboxBacklog(pending: 2, oldestEnqueuedAt: first.enqueuedAt))

        let loaded = try await store.loadInstance(id, owner: owner.id)
        #expect(loaded.inbox == [first, second])

        // The save that applies the first message consumes it, atomically with the new state.
        let saved = try await store.save(
            SaveRequest(
                instanceID: id,
                owner: owner.id,
                expectedVersion: loaded.version,
                snapshot: ContractFixture.snapshot(state: Data([1]), keys: [key]),
                appliedEntryIDs: [first.id]
            )
        )
        #expect(try await store.inbox(for: id, pendingOnly: true) == [second])
        #expect(try await store.inboxBacklog() == InboxBacklog(pending: 1, oldestEnqueuedAt: second.enqueuedAt))

        // Consuming it again fails and saves nothing: the message is applied exactly once.
        await expectStoreError(.messageNotFound) {
            try await store.save(
                SaveRequest(
                    instanceID: id,
                    owner: owner.id,
                    expectedVersion: saved.version,
                    snapshot: ContractFixture.snapshot(state: Data([2]), keys: [key]),
                    appliedEntryIDs: [second.id, first.id]
                )
            )
        }
        let after = try await store.readInstance(id)
        #expect(after.version == saved.version)
        #expect(after.state == Data([1]))
        #expect(try await store.inbox(for: id, pendingOnly: true) == [second])

        // A save that fails its version check does not consume messages either.
        await expectStoreError(.versionConflict) {
            try await store.save(
                SaveRequest(
                    instanceID: id,
                    owner: owner.id,
                    expectedVersion: 1,
                    snapshot: ContractFixture.snapshot(keys: [key]),
                    appliedEntryIDs: [second.id]
                )
            )
        }
        #expect(try await store.inbox(for: id, pendingOnly: true) == [second])

        await expectStoreError(.instanceNotFound) {
            try await store.enqueueMessage(for: UUID(), operation: "approve", body: Data())
        }
        await expectStoreError(.keyNotFound) {
            try await store.enqueue(
                .message(operation: "approve", body: Data()), forKey: InstanceKey(name: "orderId", jsonValue: "0"),
                clientID: nil)
        }
    }
}
