import Foundation
import SteadfastCore
import SteadfastStore
import Testing

enum EncodingCases {
    @Sendable static func stateEncoding(_ fixture: ContractFixture) async throws {
        let gzip = StateEncodingOptions(encoding: .gzip, compressionThreshold: 1024)
        let store = try await fixture.openStore(encoding: gzip)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(600))
        let small = ContractFixture.state(size: 1023)
        let large = Data(repeating: 0x41, count: 2_000_000) + ContractFixture.state(size: 70_000)
        let smallID = try await fixture.createUnlocked(
            in: store, owner: owner, snapshot: ContractFixture.snapshot(state: small))
        let largeID = try await fixture.createUnlocked(
            in: store, owner: owner, snapshot: ContractFixture.snapshot(state: large))
        let smallRecord = try await store.readInstance(smallID)
        let largeRecord = try await store.readInstance(largeID)
        #expect(smallRecord.stateEncoding == .none)
        #expect(smallRecord.state == small)
        #expect(largeRecord.stateEncoding == .gzip)
        #expect(largeRecord.state == large)

        // Another store on the same database with compression off still reads the gzip row,
        // and writes new rows plain.
        let plainStore = try await fixture.openStore(encoding: .none)
        let reread = try await plainStore.loadInstance(largeID, owner: owner.id)
        #expect(reread.record.stateEncoding == .gzip)
        #expect(reread.record.state == large)
        _ = try await plainStore.save(
            SaveRequest(
                instanceID: largeID, owner: owner.id, expectedVersion: reread.version,
                snapshot: ContractFixture.snapshot(state: large))
        )
        let resaved = try await store.readInstance(largeID)
        #expect(resaved.stateEncoding == .none)
        #expect(resaved.state == large)

        // An empty state is stored and read back as empty.
        let emptyID = try await fixture.createUnlocked(
            in: store, owner: owner, snapshot: ContractFixture.snapshot(state: Data()))
        #expect(try await store.readInstance(emptyID).state.isEmpty)
    }

    @Sendable static func corruptState(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(
            encoding: StateEncodingOptions(encoding: .gzip, compressionThreshold: 0))
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let state = ContractFixture.state(size: 50_000)
        let id = try await fixture.createUnlocked(
            in: store, owner: owner, snapshot: ContractFixture.snapshot(state: state))
        let good = try Gzip.compress(state)

        let damaged: [(Data, String)] = [
            (good.prefix(good.count / 2), "gzip"),  // truncated
            (Data("not gzip at all".utf8), "gzip"),  // garbage
            (good.prefix(good.count - 4) + Data([0, 0, 0, 0]), "gzip"),  // bad trailer
            (Data(), "gzip"),  // empty
            (state, "lz4"),  // unknown encoding
        ]
        for (bytes, encoding) in damaged {
            try await fixture.database.overwriteStoredState(of: id, bytes: bytes, encoding: encoding)
            let error = await expectStoreError(.corruptState) { try await store.readInstance(id) }
            #expect(error?.instanceID == id)
            await expectStoreError(.corruptState) { try await store.loadInstance(id, owner: owner.id) }
        }
        // The summary stays queryable; a batched read spoils only the damaged record, and an id
        // with no instance is absent.
        #expect(try await store.listInstances(.all).map(\.id) == [id])
        let healthy = try await fixture.createUnlocked(
            in: store, owner: owner,
            snapshot: ContractFixture.snapshot(
                state: state, keys: [InstanceKey(name: "k", jsonValue: "1")], bookmarks: ["b"], properties: ["p": "v"]))
        let batch = try await store.readInstances([id, healthy, UUID()])
        #expect(batch.count == 2)
        #expect((try? batch[id]?.get()) == nil)
        let record = try #require(try batch[healthy]?.get())
        #expect(record.state == state && record.bookmarks == ["b"] && record.promotedProperties == ["p": "v"])
        #expect(record.keys == [InstanceKey(name: "k", jsonValue: "1")])
        try await store.deleteInstance(id)
    }
}
