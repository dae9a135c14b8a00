import Foundation
import SteadfastCore
import SteadfastStore
import Testing

/// Damaged rows, crashed hosts and the timing of detection: one bad row or host spoils only
/// itself.
enum RobustnessCases {
    /// Runnable detection faults a row whose state cannot be decoded (inside the claim), keeps
    /// its bytes for an operator, and claims the rest of the batch.
    @Sendable static func corruptRowFaultsOnlyItself(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(
            encoding: StateEncodingOptions(encoding: .gzip, compressionThreshold: 0), maxStateSize: 1024 * 1024)
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(10))
        let past = fixture.clock.now.addingTimeInterval(-1)
        let state = ContractFixture.state(size: 5_000)
        let good = try Gzip.compress(state)
        var healthy: Set<UUID> = []
        for _ in 0..<3 {
            healthy.insert(
                try await fixture.createUnlocked(
                    in: store, owner: creator,
                    snapshot: ContractFixture.snapshot(state: state, nextTimerAt: past, bookmarks: ["b"])))
        }
        let damage: [(bytes: Data, encoding: String)] = [
            (Data((0..<100).map { UInt8(truncatingIfNeeded: $0 &* 97 &+ 13) }), "gzip"),  // random bytes
            (good.prefix(good.count / 2), "gzip"),  // truncated stream
            (Data(), "gzip"),  // empty blob
            (state, "lz4"),  // unknown encoding
        ]
        var damaged: [UUID: (bytes: Data, encoding: String)] = [:]
        for (bytes, encoding) in damage {
            let id = try await fixture.createUnlocked(
                in: store, owner: creator,
                snapshot: ContractFixture.snapshot(state: state, nextTimerAt: past, bookmarks: ["b"]))
            try await fixture.database.overwriteStoredState(of: id, bytes: bytes, encoding: encoding)
            damaged[id] = (bytes, encoding)
        }

        // A gzip bomb: far larger decoded than the store's limit (the store was opened with 1 MiB).
        let bomb = try Gzip.compress(Data(count: 64 * 1024 * 1024))
        let bombID = try await fixture.createUnlocked(
            in: store, owner: creator,
            snapshot: ContractFixture.snapshot(state: state, nextTimerAt: past, bookmarks: ["b"]))
        try await fixture.database.overwriteStoredState(of: bombID, bytes: bomb, encoding: "gzip")
        damaged[bombID] = (bomb, "gzip")
        // A message waits for one of them: rejected with the fault, never left pending.
        let entry = try await store.enqueueMessage(for: bombID, operation: "b", body: Data("{}".utf8))

        let host = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        let batch = try await store.tryLoadRunnableInstances(owner: host.id, limit: 20, definitions: nil)
        #expect(Set(batch.loaded.map(\.id)) == healthy)
        #expect(batch.loaded.allSatisfy { $0.record.summary.lock?.ownerID == host.id && $0.record.state == state })
        #expect(Set(batch.faulted.map(\.id)) == Set(damaged.keys))
        for faulted in batch.faulted {
            #expect(faulted.reason.hasPrefix("cannot resume: "), "\(faulted.reason)")
        }
        #expect(batch.faulted.first { $0.id == bombID }?.reason.contains("1048576 bytes") == true)
        let summaries = try await store.listInstances(.all)
        for (id, stored) in damaged {
            let summary = try #require(summaries.first { $0.id == id })
            #expect(summary.status == .faulted)
            #expect(summary.fault?.hasPrefix("cannot resume: ") == true)
            #expect(summary.lock == nil && summary.nextTimerAt == nil)
            #expect(summary.version == 3)
            let row = try #require(try await fixture.database.storedRow(of: id))
            #expect(row.state == stored.bytes && row.stateEncoding == stored.encoding, "bytes kept for repair")
            #expect(row.bookmarkCount == 0)
            // Reading it still says why; loading it too (it changes nothing).
            await expectStoreError(.corruptState) { try await store.readInstance(id) }
            await expectStoreError(.corruptState) { try await store.loadInstance(id, owner: host.id) }
        }
        #expect(try await store.inboxEntry(entry.id)?.state == .rejected)
        let again = try await store.tryLoadRunnableInstances(owner: host.id, limit: 20, definitions: nil)
        #expect(again.loaded.isEmpty && again.faulted.isEmpty)
        // An operator can always remove what no host can load, whatever its bytes.
        for id in damaged.keys { try await store.deleteInstance(id) }
        #expect(Set(try await store.listInstances(.all).map(\.id)) == healthy)
    }

    /// States larger than the store's limit are refused on write with `stateTooLarge`.
    @Sendable static func stateSizeLimit(_ fixture: ContractFixture) async throws {
        let options = InstanceStoreOptions(
            encoding: StateEncodingOptions(encoding: .gzip, compressionThreshold: 0), clock: fixture.clock.storeClock,
            maxStateSize: 4096)
        let store = try await fixture.database.openStore(options: options)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        // Compressible: the limit is on the state itself, not on its stored bytes.
        let tooLarge = Data(repeating: 1, count: 4097)
        let error = await expectStoreError(.stateTooLarge) {
            try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot(state: tooLarge))
        }
        #expect(error?.message.contains("4097 bytes") == true && error?.message.contains("4096 bytes") == true)
        #expect(try await store.listInstances(.all).isEmpty)
        let record = try await fixture.create(
            in: store, owner: owner, snapshot: ContractFixture.snapshot(state: Data(repeating: 1, count: 4096)))
        await expectStoreError(.stateTooLarge) {
            try await store.save(
                SaveRequest(
                    instanceID: record.id, owner: owner.id, expectedVersion: record.version,
                    snapshot: ContractFixture.snapshot(state: tooLarge)))
        }
        #expect(try await store.readInstance(record.id).version == record.version)
        // A store with a lower limit reads the row as damaged (the same check on read).
        let strict = try await fixture.database.openStore(
            options: InstanceStoreOptions(clock: fixture.clock.storeClock, maxStateSize: 4095))
        await expectStoreError(.corruptState) { try await strict.readInstance(record.id) }
    }

    /// A row whose status no build knows is listed and read marked unreadable, with the reason;
    /// every other row lists normally, and detection never claims it.
    @Sendable static func unknownStatusSpoilsOnlyItself(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(10))
        let past = fixture.clock.now.addingTimeInterval(-1)
        var ids: [UUID] = []
        for _ in 0..<3 {
            ids.append(
                try await fixture.createUnlocked(
                    in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: past)))
        }
        let zombie = ids[1]
        try await fixture.database.overwriteStoredStatus(of: zombie, status: "zombie")
        let listed = try await store.listInstances(.all)
        #expect(Set(listed.map(\.id)) == Set(ids))
        for summary in listed {
            if summary.id == zombie {
                #expect(summary.unreadable?.contains("'zombie'") == true)
            } else {
                #expect(summary.unreadable == nil && summary.status == .idle)
            }
        }
        let record = try await store.readInstance(zombie)
        #expect(record.summary.unreadable?.contains("'zombie'") == true)
        let batch = try await store.readInstances(ids)
        #expect(batch.count == 3)
        #expect(try batch[ids[0]]?.get().summary.unreadable == nil)
        #expect(try batch[zombie]?.get().summary.unreadable != nil)

        fixture.clock.advance(by: .seconds(11))
        let host = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        let claimed = try await store.tryLoadRunnableInstances(owner: host.id, limit: 10, definitions: nil)
        #expect(Set(claimed.loaded.map(\.id)) == [ids[0], ids[2]] && claimed.faulted.isEmpty)
        await expectStoreError(.corruptState) { try await store.loadInstance(zombie, owner: host.id) }
        #expect(try await fixture.database.storedRow(of: zombie)?.status == "zombie")
        // An operator can still delete it.
        try await store.deleteInstance(zombie)
        #expect(try await store.listInstances(.all).count == 2)
    }

    /// Lock owners that expired long ago and hold no instance are removed when an owner
    /// registers or renews; owners still named by an instance, and live ones, stay.
    @Sendable static func expiredOwnersRemoved(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let crashedIdle = try await store.createLockOwner(hostID: "crashed-idle", lockDuration: .seconds(10))
        let crashedHolding = try await store.createLockOwner(hostID: "crashed-holding", lockDuration: .seconds(10))
        let held = try await fixture.create(
            in: store, owner: crashedHolding,
            snapshot: ContractFixture.snapshot(nextTimerAt: fixture.clock.now.addingTimeInterval(-1)))
        let live = try await store.createLockOwner(hostID: "live", lockDuration: .seconds(7200))
        #expect(try await fixture.database.lockOwnerIDs() == [crashedIdle.id, crashedHolding.id, live.id])

        // Just expired: kept for a while (a paused host learns its lock expired, not that it
        // never existed).
        fixture.clock.advance(by: .seconds(11))
        let early = try await store.createLockOwner(hostID: "early", lockDuration: .seconds(7200))
        #expect(try await fixture.database.lockOwnerIDs().contains(crashedIdle.id))

        fixture.clock.advance(by: .seconds(3600))
        let newcomer = try await store.createLockOwner(hostID: "newcomer", lockDuration: .seconds(60))
        #expect(try await fixture.database.lockOwnerIDs() == [crashedHolding.id, live.id, early.id, newcomer.id])

        // Once another owner takes its instance, the crashed owner goes at the next renewal.
        _ = try await store.loadInstance(held.id, owner: newcomer.id)
        _ = try await store.renewLockOwner(live.id)
        #expect(try await fixture.database.lockOwnerIDs() == [live.id, early.id, newcomer.id])
    }

    /// A timer due just after the detection round's clock reading is reported as the next due
    /// time by the same round: no timer falls between the claim and the next-due query.
    @Sendable static func nextDueTimeWithClaim(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(10))
        let now = fixture.clock.now.addingTimeInterval(11)
        let due = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(-1)))
        // Binary-exact fractions of a second, so the stored milliseconds read back equal.
        let soon = now.addingTimeInterval(0.25)
        let soonID = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: soon))
        fixture.clock.advance(by: .seconds(11))
        let host = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        // Time passes between readings, as it does between a host's calls.
        #expect(fixture.clock.now == now)
        fixture.clock.advanceOnEveryReading(by: .milliseconds(500))
        let batch = try await store.tryLoadRunnableInstances(owner: host.id, limit: 10, definitions: nil)
        #expect(batch.loaded.map(\.id) == [due])
        #expect(
            batch.nextTimerDueTime == soon,
            "the timer due just after the claim's reading was neither claimed nor reported")
        // The round armed for it claims it.
        fixture.clock.advanceOnEveryReading(by: .zero)
        let next = try await store.tryLoadRunnableInstances(owner: host.id, limit: 10, definitions: nil)
        #expect(next.loaded.map(\.id) == [soonID] && next.nextTimerDueTime == nil)
    }

    /// With a lookahead, a timer due within it is claimed ahead of time, and the next due time
    /// is the first one after the window (read with the same clock reading).
    @Sendable static func claimWithLookahead(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(10))
        let now = fixture.clock.now.addingTimeInterval(11)
        // Binary-exact fractions of a second, so the stored milliseconds read back equal.
        let (inWindow, after) = (now.addingTimeInterval(0.25), now.addingTimeInterval(0.5))
        let early = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: inWindow))
        _ = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(nextTimerAt: after))
        fixture.clock.advance(by: .seconds(11))
        let host = try await store.createLockOwner(hostID: "host-b", lockDuration: .seconds(60))
        let none = try await store.tryLoadRunnableInstances(owner: host.id, limit: 10, definitions: nil)
        #expect(none.loaded.isEmpty && none.nextTimerDueTime == inWindow)
        let batch = try await store.tryLoadRunnableInstances(
            owner: host.id, limit: 10, definitions: nil, lookahead: .milliseconds(300))
        #expect(batch.loaded.map(\.id) == [early])
        #expect(batch.nextTimerDueTime == after)
    }

    /// An instance claimed more than `quarantineAfter` times by other owners without a save in
    /// between (its hosts kept crashing) is faulted by the next claim instead of being loaded,
    /// its state kept; a save or a release starts the count again.
    @Sendable static func quarantine(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(quarantineAfter: 3)
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(10))
        let state = ContractFixture.state(size: 300)
        let runnable = try await fixture.createUnlocked(
            in: store, owner: creator,
            snapshot: ContractFixture.snapshot(state: state, status: .running, bookmarks: ["b"]))
        let loadedByID = try await fixture.createUnlocked(
            in: store, owner: creator, snapshot: ContractFixture.snapshot(state: state))
        for claim in 1...3 {
            // The previous host crashed: its lock expires, and another host claims the instance.
            fixture.clock.advance(by: .seconds(11))
            let host = try await store.createLockOwner(hostID: "host-\(claim)", lockDuration: .seconds(10))
            let batch = try await store.tryLoadRunnableInstances(owner: host.id, limit: 10, definitions: nil)
            #expect(batch.loaded.map(\.id) == [runnable] && batch.faulted.isEmpty)
            _ = try await store.loadInstance(loadedByID, owner: host.id)
            // The same owner loading again is not another claim.
            _ = try await store.loadInstance(loadedByID, owner: host.id)
            #expect(try await fixture.database.storedRow(of: runnable)?.claimsSinceSave == claim)
            #expect(try await fixture.database.storedRow(of: loadedByID)?.claimsSinceSave == claim)
        }
        fixture.clock.advance(by: .seconds(11))
        let fourth = try await store.createLockOwner(hostID: "host-4", lockDuration: .seconds(10))
        let batch = try await store.tryLoadRunnableInstances(owner: fourth.id, limit: 10, definitions: nil)
        let reason =
            "crashed or stopped its host 3 times without saving; quarantined (its state is kept: inspect it, then "
            + "delete or repair it)"
        #expect(batch.loaded.isEmpty)
        #expect(batch.faulted == [RunnableBatch.Faulted(id: runnable, reason: reason)])
        let error = await expectStoreError(.instanceQuarantined) {
            try await store.loadInstance(loadedByID, owner: fourth.id)
        }
        #expect(error?.instanceID == loadedByID && error?.message.contains(reason) == true)
        for id in [runnable, loadedByID] {
            // Committed, though the load threw: faulted, unlocked, its state kept.
            let record = try await store.readInstance(id)
            #expect(record.status == .faulted && record.summary.fault == reason)
            #expect(record.summary.lock == nil && record.summary.nextTimerAt == nil && record.bookmarks.isEmpty)
            #expect(record.version == 3 && record.state == state)
        }
        #expect(try await store.tryLoadRunnableInstances(owner: fourth.id, limit: 10, definitions: nil).faulted.isEmpty)

        // A successful save starts the count again; so does a release by a live host.
        let saved = try await fixture.createUnlocked(in: store, owner: fourth)
        var host = fourth
        var version: Int64 = 0
        for claim in 1...3 {
            fixture.clock.advance(by: .seconds(11))
            host = try await store.createLockOwner(hostID: "saver-\(claim)", lockDuration: .seconds(10))
            version = try await store.loadInstance(saved, owner: host.id).version
        }
        _ = try await store.save(
            SaveRequest(
                instanceID: saved, owner: host.id, expectedVersion: version, snapshot: ContractFixture.snapshot()))
        #expect(try await fixture.database.storedRow(of: saved)?.claimsSinceSave == 0)
        for claim in 1...3 {
            fixture.clock.advance(by: .seconds(11))
            host = try await store.createLockOwner(hostID: "again-\(claim)", lockDuration: .seconds(10))
            _ = try await store.loadInstance(saved, owner: host.id)
        }
        #expect(try await fixture.database.storedRow(of: saved)?.claimsSinceSave == 3)
        #expect(try await store.releaseLock(of: saved, owner: host.id))
        #expect(try await fixture.database.storedRow(of: saved)?.claimsSinceSave == 0)
        fixture.clock.advance(by: .seconds(11))
        host = try await store.createLockOwner(hostID: "after-release", lockDuration: .seconds(10))
        #expect(try await store.loadInstance(saved, owner: host.id).record.status == .idle)
    }

    /// A message whose body cannot be read is settled as poison with the reason, never
    /// applied; a finished instance that had one is kept under deleteAll, so it stays visible.
    @Sendable static func poisonMessagesKept(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore(completionAction: .deleteAll)
        let owner = try await store.createLockOwner(hostID: "host-a", lockDuration: .seconds(60))
        let record = try await fixture.create(in: store, owner: owner, snapshot: ContractFixture.snapshot())
        let bad = try await store.enqueueMessage(for: record.id, operation: "b", body: Data("{not json".utf8))
        let good = try await store.enqueueMessage(for: record.id, operation: "b", body: Data("{}".utf8))
        // Settled by a save that keeps the instance; a later clean completion still keeps it.
        let saved = try await store.save(
            SaveRequest(
                instanceID: record.id, owner: owner.id, expectedVersion: record.version,
                snapshot: ContractFixture.snapshot(), appliedEntryIDs: [good.id],
                poisonEntries: [bad.id: "the body is not JSON"]))
        let result = try await store.save(
            SaveRequest(
                instanceID: record.id, owner: owner.id, expectedVersion: saved.version,
                snapshot: ContractFixture.snapshot(status: .completed), lockAction: .complete))
        #expect(!result.deleted)
        let entries = try await store.inbox(for: record.id, pendingOnly: false)
        #expect(entries.map(\.state) == [.poison, .applied])
        #expect(entries.first?.reason == "the body is not JSON")
        #expect(try await store.readInstance(record.id).status == .completed)
    }
}
