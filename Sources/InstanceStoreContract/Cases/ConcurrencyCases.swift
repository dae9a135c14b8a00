import Foundation
import SteadfastCore
import SteadfastStore
import Synchronization
import Testing

/// Several hosts, each with a store of its own (its own connections) and its own lock owner, race
/// many tasks against the same instances. Whatever the interleaving, each race has exactly one
/// winner and loses nothing: what one database gets from a single writer, another must get from
/// its row locks and constraints under its isolation level (READ COMMITTED on PostgreSQL).
enum ConcurrencyCases {
    /// Many owners race to load the same unlocked instances, by id and by key: each round, exactly
    /// one load per instance succeeds, and every other gets `instanceLocked`, naming the winner.
    @Sendable static func concurrentLoad(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let stores = try await openStores(fixture, count: 4)
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(600))
        let loaders = try await register(owners: 8, named: "loader", on: stores)
        var instances: [(id: UUID, key: InstanceKey)] = []
        for index in 0..<6 {
            let key = InstanceKey(name: "race", jsonValue: "\(index)")
            let id = try await fixture.createUnlocked(
                in: store, owner: creator, snapshot: ContractFixture.snapshot(keys: [key]))
            instances.append((id, key))
        }

        for round in 0..<4 {
            var entrants: [Entrant<(instance: Int, loader: Int), LoadedInstance>] = []
            for (index, instance) in instances.enumerated() {
                for (number, loader) in loaders.enumerated() {
                    let byKey = (number + round).isMultiple(of: 2)
                    entrants.append(
                        Entrant(tag: (index, number)) {
                            byKey
                                ? try await loader.store.loadInstance(byKey: instance.key, owner: loader.owner.id)
                                : try await loader.store.loadInstance(instance.id, owner: loader.owner.id)
                        })
                }
            }
            let finishes = try await race(entrants)
            for (index, instance) in instances.enumerated() {
                let contest = finishes.filter { $0.tag.instance == index }
                let (winnerTag, loaded) = try #require(
                    soleWinner(of: contest), "round \(round): not exactly one load of an instance succeeded")
                let winner = loaders[winnerTag.loader]
                #expect(loaded.id == instance.id && loaded.record.summary.lock?.ownerID == winner.owner.id)
                for finish in contest where finish.tag.loader != winnerTag.loader {
                    let error = await expectStoreError(.instanceLocked) { try finish.outcome.get() }
                    #expect(error?.lockOwnerID == winner.owner.id && error?.instanceID == instance.id)
                }
                let stored = try await store.readInstance(instance.id)
                #expect(stored.summary.lock?.ownerID == winner.owner.id)
                #expect(stored.version == loaded.version && stored.state == loaded.record.state)
                // The winner lets it go again for the next round.
                #expect(try await winner.store.releaseLock(of: instance.id, owner: winner.owner.id))
            }
        }
    }

    /// A stalled owner whose lock expired and the owner that took its instances over both save
    /// at once, the new holder several times at the version it loaded: only one of the holder's
    /// saves at that version commits, and the stored row is exactly that save's.
    @Sendable static func concurrentSave(_ fixture: ContractFixture) async throws {
        enum Saver: Sendable, Equatable {
            /// The owner whose lock expired, saving the version it last saved.
            case stalled
            /// The owner that loaded the instance after it, at the version it loaded.
            case holder
            /// The holder with a version older than the one it loaded.
            case holderStale
        }
        let stores = try await openStores(fixture, count: 4)
        let savers: [Saver] = [.holder, .stalled, .holder, .stalled, .holderStale, .stalled, .holder]
        for round in 0..<4 {
            let stalled = try await stores[0].createLockOwner(hostID: "stalled-\(round)", lockDuration: .seconds(10))
            var ids: [UUID] = []
            for _ in 0..<3 {
                let record = try await fixture.create(in: stores[0], owner: stalled)
                _ = try await stores[0].save(
                    SaveRequest(
                        instanceID: record.id, owner: stalled.id, expectedVersion: 1,
                        snapshot: ContractFixture.snapshot(state: ContractFixture.state(size: 32, seed: 1))))
                ids.append(record.id)
            }
            // The stalled host's lock expires; another host takes the instances over at version 2.
            fixture.clock.advance(by: .seconds(11))
            let holder = try await stores[1].createLockOwner(hostID: "holder-\(round)", lockDuration: .seconds(600))
            for id in ids {
                #expect(try await stores[1].loadInstance(id, owner: holder.id).version == 2)
            }

            var entrants: [Entrant<(instance: Int, saver: Saver, snapshot: InstanceSnapshot), SaveResult>] = []
            for (index, id) in ids.enumerated() {
                for attempt in 0..<14 {
                    let saver = savers[attempt % savers.count]
                    let snapshot = ContractFixture.snapshot(
                        state: ContractFixture.state(size: 64 + attempt, seed: UInt8(attempt)),
                        status: attempt.isMultiple(of: 2) ? .idle : .running)
                    let request = SaveRequest(
                        instanceID: id, owner: saver == .stalled ? stalled.id : holder.id,
                        expectedVersion: saver == .holderStale ? 1 : 2, snapshot: snapshot)
                    let store = stores[(attempt + index) % stores.count]
                    entrants.append(Entrant(tag: (index, saver, snapshot)) { try await store.save(request) })
                }
            }
            let finishes = try await race(entrants)
            for (index, id) in ids.enumerated() {
                let contest = finishes.filter { $0.tag.instance == index }
                let (winner, result) = try #require(
                    soleWinner(of: contest), "round \(round): not exactly one save of an instance committed")
                #expect(winner.saver == .holder, "only the holder's save at the stored version may commit")
                #expect(result == SaveResult(version: 3, deleted: false))
                for finish in contest where !finish.outcome.succeeded {
                    switch finish.tag.saver {
                    case .stalled: expectFailure(finish.outcome, [.lockLost, .ownerExpired])
                    case .holder, .holderStale:
                        await expectStoreError(.versionConflict) { try finish.outcome.get() }
                    }
                }
                let stored = try await stores[2].readInstance(id)
                #expect(stored.version == 3 && stored.summary.lock?.ownerID == holder.id)
                #expect(stored.state == winner.snapshot.state && stored.status == winner.snapshot.status)
                // The holder goes on from the version its winning save returned.
                let next = try await stores[3].save(
                    SaveRequest(
                        instanceID: id, owner: holder.id, expectedVersion: result.version,
                        snapshot: ContractFixture.snapshot(), lockAction: .unlock))
                #expect(next.version == 4)
            }
        }
    }

    /// 200 runnable instances (saved running by hosts that died, or with a timer due), and some
    /// that are not: owners on several stores claim in a loop, with different batch sizes, until
    /// nothing is left. Every runnable instance is claimed by exactly one owner, none twice, none
    /// missed, no other claimed; after the owners' locks expire, the same holds again.
    @Sendable static func concurrentClaims(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let stores = try await openStores(fixture, count: 4)
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(10))
        let now = fixture.clock.now
        var creations: [Entrant<Bool, UUID>] = []
        for index in 0..<230 {
            let snapshot =
                switch index {
                case 0..<100: ContractFixture.snapshot(status: .running)
                case 100..<200: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(-Double(index)))
                case 200..<215: ContractFixture.snapshot(nextTimerAt: now.addingTimeInterval(3600))
                default: ContractFixture.snapshot(isSuspended: true, nextTimerAt: now.addingTimeInterval(-1))
                }
            let store = stores[index % stores.count]
            creations.append(
                Entrant(tag: index < 200) { try await fixture.create(in: store, owner: creator, snapshot: snapshot).id }
            )
        }
        let created = try await race(creations)
        let runnable = Set(try created.filter(\.tag).map { try $0.outcome.get() })
        try #require(runnable.count == 200)
        // The creator dies: its instances are free once its lock expires.
        fixture.clock.advance(by: .seconds(11))

        for round in 0..<2 {
            let claimers = try await register(
                owners: 8, named: "claimer-\(round)", on: stores, lockDuration: .seconds(60))
            let limits = [1, 2, 3, 5, 8, 13, 4, 7]
            let entrants = claimers.enumerated().map { number, claimer in
                Entrant(tag: claimer.owner.id) { () async throws -> [UUID] in
                    var claimed: [UUID] = []
                    while true {
                        let batch = try await claimer.store.tryLoadRunnableInstances(
                            owner: claimer.owner.id, limit: limits[number], definitions: nil)
                        #expect(batch.faulted.isEmpty && batch.loaded.count <= limits[number])
                        #expect(batch.loaded.allSatisfy { $0.record.summary.lock?.ownerID == claimer.owner.id })
                        if batch.loaded.isEmpty { return claimed }
                        claimed += batch.loaded.map(\.id)
                    }
                }
            }
            var claimedBy: [UUID: UUID] = [:]
            for finish in try await race(entrants) {
                for id in try finish.outcome.get() {
                    #expect(claimedBy.updateValue(finish.tag, forKey: id) == nil, "round \(round): \(id) claimed twice")
                }
            }
            let claimed = Set(claimedBy.keys)
            let (missed, extra) = (runnable.subtracting(claimed).count, claimed.subtracting(runnable).count)
            #expect(claimed == runnable, "round \(round): missed \(missed), claimed \(extra) not runnable")
            let claimerIDs = Set(claimers.map(\.owner.id))
            for summary in try await store.listInstances(.all) {
                if runnable.contains(summary.id) {
                    #expect(summary.lock?.ownerID == claimedBy[summary.id], "the stored lock is the claimer's")
                } else {
                    #expect(summary.lock.map { !claimerIDs.contains($0.ownerID) } ?? true, "claimed, not runnable")
                }
            }
            // Nothing is left for a latecomer.
            let late = try await stores[0].createLockOwner(hostID: "late-\(round)", lockDuration: .seconds(60))
            let leftover = try await stores[0].tryLoadRunnableInstances(owner: late.id, limit: 300, definitions: nil)
            #expect(leftover.loaded.isEmpty && leftover.faulted.isEmpty)
            // The claimers die; the next round claims everything again, once.
            fixture.clock.advance(by: .seconds(61))
        }
    }

    /// Many tasks on several stores enqueue the same command with the same client id to one
    /// instance (unlocked or held), by id and by key: one entry is stored, and every call returns
    /// it. Distinct commands sent at once are all stored, with distinct ids; replaying their
    /// client ids at once stores nothing more.
    @Sendable static func concurrentEnqueueWithClientID(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let stores = try await openStores(fixture, count: 4)
        let holder = try await store.createLockOwner(hostID: "holder", lockDuration: .seconds(600))
        var created: [(id: UUID, key: InstanceKey)] = []
        for index in 0..<3 {
            let key = InstanceKey(name: "inbox", jsonValue: "\(index)")
            let snapshot = ContractFixture.snapshot(keys: [key])
            // Enqueueing works whoever holds the instance: the last one stays held by a live host.
            let id =
                index < 2
                ? try await fixture.createUnlocked(in: store, owner: holder, snapshot: snapshot)
                : try await fixture.create(in: store, owner: holder, snapshot: snapshot).id
            created.append((id, key))
        }
        let instances = created
        func send(_ command: InboxEntry.Command, to index: Int, clientID: String?, attempt: Int)
            -> Entrant<Int, InboxEntry>
        {
            let (id, key) = instances[index]
            let store = stores[attempt % stores.count]
            return Entrant(tag: index) {
                attempt.isMultiple(of: 2)
                    ? try await store.enqueue(command, for: id, clientID: clientID)
                    : try await store.enqueue(command, forKey: key, clientID: clientID)
            }
        }

        // One command, one client id, sent 24 times at once to each instance.
        let payment = InboxEntry.Command.message(operation: "pay", body: Data(#"{"amount":1}"#.utf8))
        let duplicates = try await race(
            instances.indices.flatMap { index in
                (0..<24).map { send(payment, to: index, clientID: "payment-1", attempt: $0) }
            })
        var stored: [[InboxEntry]] = []
        for (index, instance) in instances.enumerated() {
            let returned = try duplicates.filter { $0.tag == index }.map { try $0.outcome.get() }
            let inbox = try await store.inbox(for: instance.id, pendingOnly: false)
            try #require(inbox.count == 1, "\(inbox.count) entries stored for one client id")
            #expect(returned.count == 24 && returned.allSatisfy { $0 == inbox[0] })
            #expect(inbox[0].instanceID == instance.id && inbox[0].clientID == "payment-1")
            #expect(inbox[0].command == payment && inbox[0].state == .pending)
            stored.append(inbox)
        }
        #expect(Set(stored.map { $0[0].id }).count == instances.count, "a client id is per instance")

        // 24 distinct commands at once (half with client ids): all stored, none merged.
        func command(_ attempt: Int) -> InboxEntry.Command {
            .message(operation: "note", body: Data(#"{"n":\#(attempt)}"#.utf8))
        }
        func clientID(_ attempt: Int) -> String? { attempt.isMultiple(of: 2) ? "note-\(attempt)" : nil }
        let distinct = try await race(
            instances.indices.flatMap { index in
                (0..<24).map { send(command($0), to: index, clientID: clientID($0), attempt: $0) }
            })
        for (index, instance) in instances.enumerated() {
            let returned = try distinct.filter { $0.tag == index }.map { try $0.outcome.get() }
            #expect(Set(returned.map(\.id)).count == 24, "distinct entries share an id")
            #expect(Set(returned.map(\.command)) == Set((0..<24).map(command)))
            let inbox = try await store.inbox(for: instance.id, pendingOnly: false)
            #expect(inbox == stored[index] + returned.sorted { $0.id < $1.id }, "an entry was lost or changed")
            stored[index] = inbox
        }

        // Their client ids replayed, each twice, at once: the entries stored before come back.
        let replays = try await race(
            instances.indices.flatMap { index in
                (0..<24).map { send(command($0 / 2 * 2), to: index, clientID: clientID($0 / 2 * 2), attempt: $0) }
            })
        for (index, instance) in instances.enumerated() {
            for entry in try replays.filter({ $0.tag == index }).map({ try $0.outcome.get() }) {
                #expect(stored[index].contains(entry), "a replayed client id returned a new entry")
            }
            #expect(try await store.inbox(for: instance.id, pendingOnly: false) == stored[index])
        }
    }

    /// Deletes race loads (by other owners) and enqueues on the same unlocked instances, each of
    /// which already has an entry waiting: either a delete wins (the instance and its whole inbox
    /// are gone, no orphaned entry remains, the other calls get `instanceNotFound`) or a load
    /// wins (the deletes and other loads get `instanceLocked`, and every enqueue is kept).
    @Sendable static func concurrentDeleteVersusLoadAndEnqueue(_ fixture: ContractFixture) async throws {
        enum Move: Sendable, Equatable {
            case delete
            case load(Int)
            case enqueue
        }
        let store = try await fixture.openStore()
        let stores = try await openStores(fixture, count: 4)
        let creator = try await store.createLockOwner(hostID: "creator", lockDuration: .seconds(600))
        for round in 0..<3 {
            let loaders = try await register(owners: 4, named: "loader-\(round)", on: stores)
            var instances: [(id: UUID, waiting: InboxEntry)] = []
            for _ in 0..<8 {
                let id = try await fixture.createUnlocked(in: store, owner: creator)
                instances.append((id, try await store.enqueueMessage(for: id, operation: "early", body: Data())))
            }
            var entrants: [Entrant<(instance: Int, move: Move), Effect>] = []
            for (index, instance) in instances.enumerated() {
                var moves: [Move] = [.delete, .load(0), .enqueue, .load(1), .enqueue]
                moves += [.delete, .load(2), .enqueue, .load(3), .enqueue]
                if index.isMultiple(of: 2) { moves.reverse() }
                for (attempt, move) in moves.enumerated() {
                    let store = stores[(attempt + index + round) % stores.count]
                    let run: @Sendable () async throws -> Effect =
                        switch move {
                        case .delete:
                            {
                                try await store.deleteInstance(instance.id)
                                return .deleted
                            }
                        case .load(let loader):
                            {
                                .loaded(
                                    try await loaders[loader].store.loadInstance(
                                        instance.id, owner: loaders[loader].owner.id))
                            }
                        case .enqueue:
                            {
                                .enqueued(
                                    try await store.enqueue(
                                        .message(operation: "late", body: Data(#"{"n":\#(attempt)}"#.utf8)),
                                        for: instance.id, clientID: attempt.isMultiple(of: 3) ? "late-\(attempt)" : nil)
                                )
                            }
                        }
                    entrants.append(Entrant(tag: (index, move), attempt: run))
                }
            }
            let finishes = try await race(entrants)
            for (index, instance) in instances.enumerated() {
                let contest = finishes.filter { $0.tag.instance == index }
                let deletes = contest.filter { $0.tag.move == .delete }
                let loads = contest.filter { $0.tag.move != .delete && $0.tag.move != .enqueue }
                let enqueues = contest.filter { $0.tag.move == .enqueue }
                let (deleted, loaded) = (deletes.filter(\.outcome.succeeded), loads.filter(\.outcome.succeeded))
                try #require(
                    deleted.count + loaded.count == 1,
                    "round \(round): \(deleted.count) deletes and \(loaded.count) loads of one instance succeeded")
                if deleted.count == 1 {
                    for finish in (deletes + loads) where !finish.outcome.succeeded {
                        await expectStoreError(.instanceNotFound) { try finish.outcome.get() }
                    }
                    for finish in enqueues {
                        if case .success(.enqueued(let entry)) = finish.outcome {
                            #expect(try await store.inboxEntry(entry.id) == nil, "an entry outlived its instance")
                        } else {
                            await expectStoreError(.instanceNotFound) { try finish.outcome.get() }
                        }
                    }
                    await expectStoreError(.instanceNotFound) { try await store.readInstance(instance.id) }
                    #expect(try await store.inbox(for: instance.id, pendingOnly: false).isEmpty, "orphaned inbox")
                    #expect(try await store.inboxEntry(instance.waiting.id) == nil)
                } else {
                    guard case .load(let number) = loaded[0].tag.move,
                        case .success(.loaded(let loadedInstance)) = loaded[0].outcome
                    else { throw ContractFailure("the winning load returned no instance") }
                    let winner = loaders[number].owner.id
                    for finish in (deletes + loads) where !finish.outcome.succeeded {
                        let error = await expectStoreError(.instanceLocked) { try finish.outcome.get() }
                        #expect(error?.lockOwnerID == winner)
                    }
                    var entries = [instance.waiting]
                    for finish in enqueues {
                        guard case .success(.enqueued(let entry)) = finish.outcome else {
                            Issue.record("an enqueue to a live instance failed: \(finish.outcome)")
                            continue
                        }
                        entries.append(entry)
                    }
                    #expect(try await store.readInstance(instance.id).summary.lock?.ownerID == winner)
                    let pending = try await store.inbox(for: instance.id, pendingOnly: true)
                    #expect(pending == entries.sorted { $0.id < $1.id }, "an entry was lost")
                    #expect(loadedInstance.inbox.first == instance.waiting)
                    #expect(loadedInstance.inbox.allSatisfy(pending.contains))
                }
            }
        }
    }

    /// Purges (of finished and idle instances) race claims by several owners and enqueues: every
    /// finished instance is purged; each idle runnable instance is either claimed or purged, never
    /// both; a purged instance is gone entirely (no orphaned inbox entry); a claimed or held
    /// instance is never purged; each deletion is counted once; no enqueue is lost.
    @Sendable static func concurrentPurgeVersusClaim(_ fixture: ContractFixture) async throws {
        enum Move: Sendable, Equatable {
            case purge
            case claim
            case enqueue(UUID)
        }
        let store = try await fixture.openStore(completionAction: .deleteNothing)
        let stores = try await openStores(fixture, count: 4)
        let holder = try await store.createLockOwner(hostID: "holder", lockDuration: .seconds(600))
        let filter = PurgeFilter(statuses: InstanceStatus.finished.union([.idle]))
        for round in 0..<3 {
            let past = fixture.clock.now.addingTimeInterval(-1)
            var finished: Set<UUID> = []
            var idleDue: Set<UUID> = []
            var running: Set<UUID> = []
            var held: Set<UUID> = []
            let statuses: [InstanceStatus] = [.completed, .canceled, .terminated]
            let creations = try await race(
                (0..<48).map { index in
                    let store = stores[index % stores.count]
                    return Entrant(tag: index) { () async throws -> UUID in
                        switch index {
                        case 0..<9:
                            let record = try await fixture.create(in: store, owner: holder)
                            _ = try await store.enqueueMessage(for: record.id, operation: "op", body: Data())
                            _ = try await store.save(
                                SaveRequest(
                                    instanceID: record.id, owner: holder.id, expectedVersion: 1,
                                    snapshot: ContractFixture.snapshot(status: statuses[index % 3]),
                                    lockAction: .complete))
                            return record.id
                        case 9..<33:
                            return try await fixture.createUnlocked(
                                in: store, owner: holder, snapshot: ContractFixture.snapshot(nextTimerAt: past))
                        case 33..<42:
                            return try await fixture.createUnlocked(
                                in: store, owner: holder, snapshot: ContractFixture.snapshot(status: .running))
                        default:
                            return try await fixture.create(
                                in: store, owner: holder, snapshot: ContractFixture.snapshot(nextTimerAt: past)
                            ).id
                        }
                    }
                })
            for creation in creations {
                let id = try creation.outcome.get()
                switch creation.tag {
                case 0..<9: finished.insert(id)
                case 9..<33: idleDue.insert(id)
                case 33..<42: running.insert(id)
                default: held.insert(id)
                }
            }
            let claimers = try await register(owners: 6, named: "claimer-\(round)", on: stores)

            var purges: [Entrant<Move, Effect>] = []
            for number in 0..<3 {
                let store = stores[(number + round) % stores.count]
                purges.append(Entrant(tag: .purge) { .purged(try await store.purgeInstances(filter)) })
            }
            let claims = claimers.map { claimer in
                Entrant(tag: Move.claim) { () async throws -> Effect in
                    var claimed: [UUID] = []
                    while true {
                        let batch = try await claimer.store.tryLoadRunnableInstances(
                            owner: claimer.owner.id, limit: 4, definitions: nil)
                        #expect(batch.faulted.isEmpty)
                        if batch.loaded.isEmpty { return .claimed(claimer.owner.id, claimed) }
                        claimed += batch.loaded.map(\.id)
                    }
                }
            }
            let enqueues = (Array(idleDue) + Array(finished)).enumerated().map { number, id in
                let store = stores[number % stores.count]
                return Entrant(tag: Move.enqueue(id)) { () async throws -> Effect in
                    .enqueued(try await store.enqueueMessage(for: id, operation: "tick", body: Data(), clientID: nil))
                }
            }
            let finishes = try await race(interleaved([claims, purges, enqueues]))

            let roundIDs = finished.union(idleDue).union(running).union(held)
            let present = Set(try await store.listInstances(.all).map(\.id))
            let gone = roundIDs.subtracting(present)
            var purgedCount = 0
            var claimedBy: [UUID: UUID] = [:]
            for finish in finishes where finish.tag == .purge || finish.tag == .claim {
                switch try finish.outcome.get() {
                case .purged(let count): purgedCount += count
                case .claimed(let owner, let ids):
                    for id in ids {
                        #expect(claimedBy.updateValue(owner, forKey: id) == nil, "\(id) claimed twice")
                    }
                default: Issue.record("a purge or a claim returned \(finish.outcome)")
                }
            }
            let claimed = Set(claimedBy.keys)
            #expect(purgedCount == gone.count, "purges counted \(purgedCount) deletions; \(gone.count) are gone")
            #expect(finished.isSubset(of: gone), "a finished instance survived the purges")
            #expect(claimed.isDisjoint(with: gone), "a claimed instance was purged")
            #expect(
                idleDue.isSubset(of: claimed.union(gone)), "an idle runnable instance was neither claimed nor purged")
            #expect(running.isSubset(of: claimed) && running.isDisjoint(with: gone))
            #expect(held.isDisjoint(with: claimed.union(gone)), "a held instance was claimed or purged")
            #expect(claimed.isSubset(of: idleDue.union(running)))
            for summary in try await store.listInstances(.all) where roundIDs.contains(summary.id) {
                #expect(summary.lock?.ownerID == (held.contains(summary.id) ? holder.id : claimedBy[summary.id]))
            }
            for id in gone {
                #expect(try await store.inbox(for: id, pendingOnly: false).isEmpty, "orphaned inbox of \(id)")
            }
            for finish in finishes {
                guard case .enqueue(let id) = finish.tag else { continue }
                switch finish.outcome {
                case .success(.enqueued(let entry)):
                    #expect(idleDue.contains(id), "a finished instance took a message")
                    let kept = try await store.inboxEntry(entry.id)
                    #expect(gone.contains(id) ? kept == nil : kept?.state == .pending, "an enqueue was lost")
                case .failure(let error) where error.code == .instanceNotFound:
                    #expect(gone.contains(id))
                default:
                    expectFailure(finish.outcome, [.instanceFinished, .instanceNotFound])
                    #expect(finished.contains(id))
                }
            }
            #expect(try await store.purgeCandidates(filter).isEmpty)
        }
    }

    /// A holder's completing save races enqueues (by id and by key) to the same instance, under
    /// either completion action: each enqueue either returns an entry the save then rejected
    /// (and kept, with the instance) or fails with `instanceFinished` (`instanceNotFound` or
    /// `keyNotFound` once a clean completion deleted it); no entry is left pending on a finished
    /// instance, and none outlives a deleted one.
    @Sendable static func concurrentSaveCompletionVersusEnqueue(_ fixture: ContractFixture) async throws {
        enum Move: Sendable, Equatable {
            case complete
            case enqueueByID
            case enqueueByKey
        }
        let store = try await fixture.openStore()
        let stores = try await openStores(fixture, count: 4)
        let holder = try await store.createLockOwner(hostID: "holder", lockDuration: .seconds(600))
        for round in 0..<6 {
            let action: InstanceCompletionAction = round.isMultiple(of: 2) ? .deleteNothing : .deleteAll
            try await store.setCompletionAction(action)
            var instances: [(id: UUID, key: InstanceKey)] = []
            for index in 0..<4 {
                let key = InstanceKey(name: "finishing", jsonValue: "\(round * 10 + index)")
                let record = try await fixture.create(
                    in: store, owner: holder, snapshot: ContractFixture.snapshot(keys: [key]))
                instances.append((record.id, key))
            }
            var entrants: [Entrant<(instance: Int, move: Move), Effect>] = []
            for (index, instance) in instances.enumerated() {
                let saveAt = (round + index * 3) % 13
                for attempt in 0..<13 {
                    let store = stores[(attempt + index) % stores.count]
                    let command = InboxEntry.Command.message(operation: "late", body: Data(#"{"n":\#(attempt)}"#.utf8))
                    let clientID = attempt.isMultiple(of: 3) ? "late-\(attempt)" : nil
                    if attempt == saveAt {
                        let request = SaveRequest(
                            instanceID: instance.id, owner: holder.id, expectedVersion: 1,
                            snapshot: ContractFixture.snapshot(status: .completed, keys: [instance.key]),
                            lockAction: .complete)
                        entrants.append(Entrant(tag: (index, .complete)) { .saved(try await store.save(request)) })
                    } else if attempt.isMultiple(of: 2) {
                        entrants.append(
                            Entrant(tag: (index, .enqueueByID)) {
                                .enqueued(try await store.enqueue(command, for: instance.id, clientID: clientID))
                            })
                    } else {
                        entrants.append(
                            Entrant(tag: (index, .enqueueByKey)) {
                                .enqueued(try await store.enqueue(command, forKey: instance.key, clientID: clientID))
                            })
                    }
                }
            }
            let finishes = try await race(entrants)
            for (index, instance) in instances.enumerated() {
                let contest = finishes.filter { $0.tag.instance == index }
                guard case .success(.saved(let result)) = contest.first(where: { $0.tag.move == .complete })?.outcome
                else {
                    Issue.record("round \(round): the holder's completing save failed")
                    continue
                }
                var accepted: [InboxEntry] = []
                var refused: [(move: Move, outcome: Result<Effect, InstanceStoreError>)] = []
                for finish in contest where finish.tag.move != .complete {
                    if case .success(.enqueued(let entry)) = finish.outcome {
                        accepted.append(entry)
                    } else {
                        refused.append((finish.tag.move, finish.outcome))
                    }
                }
                #expect(result.version == 2)
                #expect(result.rejectedEntries == accepted.count, "the save rejected other entries than were taken")
                if action == .deleteNothing {
                    #expect(!result.deleted)
                } else {
                    #expect(result.deleted == accepted.isEmpty, "deleteAll deletes exactly the clean completions")
                }
                if result.deleted {
                    for (move, outcome) in refused {
                        if move == .enqueueByID {
                            await expectStoreError(.instanceNotFound) { try outcome.get() }
                        } else {
                            // The key may have led to the instance just before the save deleted it.
                            expectFailure(outcome, [.keyNotFound, .instanceNotFound])
                        }
                    }
                    await expectStoreError(.instanceNotFound) { try await store.readInstance(instance.id) }
                    #expect(try await store.inbox(for: instance.id, pendingOnly: false).isEmpty, "orphaned inbox")
                } else {
                    for (_, outcome) in refused {
                        await expectStoreError(.instanceFinished) { try outcome.get() }
                    }
                    #expect(try await store.readInstance(instance.id).status == .completed)
                    let inbox = try await store.inbox(for: instance.id, pendingOnly: false)
                    #expect(inbox.map(\.id) == accepted.map(\.id).sorted(), "an entry was lost")
                    #expect(inbox.allSatisfy { $0.state == .rejected && $0.reason?.isEmpty == false })
                    #expect(try await store.inbox(for: instance.id, pendingOnly: true).isEmpty)
                }
            }
        }
    }
}

// MARK: - Racing

/// One host of a race: a store of its own and a lock owner registered through it.
private struct Racer: Sendable {
    let store: any InstanceStore
    let owner: LockOwner
}

/// What a contender's call did, when calls of different kinds race.
private enum Effect: Sendable {
    case loaded(LoadedInstance)
    case saved(SaveResult)
    case enqueued(InboxEntry)
    case deleted
    case purged(Int)
    /// The instances an owner claimed, looping until nothing was left.
    case claimed(UUID, [UUID])
}

/// A contender: what it stands for in the race, and the call it makes.
extension ConcurrencyCases {
    /// One store gets, all at once, saves that replace or drop bookmarks and promoted properties
    /// and creates that race in pairs for one correlation key, so its group commit mixes them
    /// in its transactions (on a server database, sent together without waiting): every save
    /// leaves exactly its snapshot's rows, and of each pair one create wins and the other gets
    /// `keyConflict` and leaves nothing behind.
    @Sendable static func mixedBatches(_ fixture: ContractFixture) async throws {
        let store = try await fixture.openStore()
        let owner = try await store.createLockOwner(hostID: "mixed", lockDuration: .seconds(600))
        var records: [InstanceRecord] = []
        for _ in 0..<12 {
            records.append(
                try await fixture.create(
                    in: store, owner: owner,
                    snapshot: ContractFixture.snapshot(bookmarks: ["b1"], properties: ["p": "1", "q": "1"])))
        }
        enum Tag: Sendable {
            case save(Int, InstanceSnapshot)
            case create(pair: Int, InstanceSnapshot)
        }
        var entrants: [Entrant<Tag, InstanceSnapshot>] = []
        for (index, record) in records.enumerated() {
            let snapshot =
                index.isMultiple(of: 2)
                ? ContractFixture.snapshot(state: ContractFixture.state(size: 40, seed: UInt8(index)))
                : ContractFixture.snapshot(bookmarks: ["b2", "b3"], properties: ["p": "\(index)"])
            let request = SaveRequest(
                instanceID: record.id, owner: owner.id, expectedVersion: record.version, snapshot: snapshot)
            entrants.append(
                Entrant(tag: .save(index, snapshot)) {
                    _ = try await store.save(request)
                    return snapshot
                })
        }
        for pair in 0..<6 {
            for _ in 0..<2 {
                let snapshot = ContractFixture.snapshot(
                    keys: [InstanceKey(name: "order", jsonValue: "\(pair)")], bookmarks: ["approve"])
                entrants.append(
                    Entrant(tag: .create(pair: pair, snapshot)) {
                        _ = try await fixture.create(in: store, owner: owner, snapshot: snapshot)
                        return snapshot
                    })
            }
        }
        let finishes = try await race(entrants)
        for finish in finishes {
            guard case .save(let index, let snapshot) = finish.tag else { continue }
            #expect(finish.outcome.succeeded, "the save of instance \(index) failed: \(finish.outcome)")
            let stored = try await store.readInstance(records[index].id)
            #expect(stored.version == records[index].version + 1 && stored.state == snapshot.state)
            #expect(stored.bookmarks == snapshot.bookmarks && stored.promotedProperties == snapshot.promotedProperties)
        }
        for pair in 0..<6 {
            let contest = finishes.filter {
                if case .create(pair, _) = $0.tag { true } else { false }
            }
            #expect(
                contest.filter(\.outcome.succeeded).count == 1, "pair \(pair): not exactly one create succeeded")
            for finish in contest where !finish.outcome.succeeded {
                expectFailure(finish.outcome, [.keyConflict])
            }
        }
        let created = try await store.listInstances(InstanceQuery(limit: 100)).count
        #expect(created == records.count + 6, "a create that lost its key left a row behind")
    }
}

private struct Entrant<Tag: Sendable, Value: Sendable>: Sendable {
    let tag: Tag
    let attempt: @Sendable () async throws -> Value
}

/// How a contender's call ended: its value, or the store error it threw.
private struct Finish<Tag: Sendable, Value: Sendable>: Sendable {
    let tag: Tag
    let outcome: Result<Value, InstanceStoreError>
}

/// A failure of the contract suite itself (not an assertion about the store).
private struct ContractFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Holds every task of a race until all have been started, then lets them go together.
private final class StartingGate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

extension Result {
    fileprivate var succeeded: Bool {
        if case .success = self { return true }
        return false
    }
}

extension ConcurrencyCases {
    /// Opens `count` stores on the case's database, like that many hosts.
    fileprivate static func openStores(_ fixture: ContractFixture, count: Int) async throws -> [any InstanceStore] {
        var stores: [any InstanceStore] = []
        for _ in 0..<count { stores.append(try await fixture.database.openStore(options: fixture.options())) }
        return stores
    }

    /// Registers `owners` lock owners, spread over `stores`, each through its own store.
    fileprivate static func register(
        owners: Int, named name: String, on stores: [any InstanceStore], lockDuration: Duration = .seconds(600)
    ) async throws -> [Racer] {
        var racers: [Racer] = []
        for index in 0..<owners {
            let store = stores[index % stores.count]
            let owner = try await store.createLockOwner(hostID: "\(name)-\(index)", lockDuration: lockDuration)
            racers.append(Racer(store: store, owner: owner))
        }
        return racers
    }

    /// Runs every entrant's call at once (each waits at a gate until all have started) and
    /// returns how each ended, in the entrants' order. A store error is an outcome; any other
    /// error fails the case.
    fileprivate static func race<Tag: Sendable, Value: Sendable>(
        _ entrants: [Entrant<Tag, Value>]
    ) async throws -> [Finish<Tag, Value>] {
        let gate = StartingGate()
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Value, InstanceStoreError>).self) { group in
            for (index, entrant) in entrants.enumerated() {
                group.addTask {
                    await gate.wait()
                    do {
                        return (index, .success(try await entrant.attempt()))
                    } catch let error as InstanceStoreError {
                        return (index, .failure(error))
                    }
                }
            }
            gate.open()
            var outcomes: [Int: Result<Value, InstanceStoreError>] = [:]
            for try await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        return try entrants.indices.map { index in
            guard let outcome = outcomes[index] else { throw ContractFailure("entrant \(index) never finished") }
            return Finish(tag: entrants[index].tag, outcome: outcome)
        }
    }

    /// The one contender whose call succeeded, with its value; nil unless exactly one did.
    fileprivate static func soleWinner<Tag, Value>(of finishes: [Finish<Tag, Value>]) -> (Tag, Value)? {
        let winners = finishes.compactMap { finish -> (Tag, Value)? in
            guard case .success(let value) = finish.outcome else { return nil }
            return (finish.tag, value)
        }
        return winners.count == 1 ? winners[0] : nil
    }

    /// Takes one entrant from each list in turn, so calls of different kinds start interleaved.
    fileprivate static func interleaved<Tag, Value>(_ lists: [[Entrant<Tag, Value>]]) -> [Entrant<Tag, Value>] {
        var result: [Entrant<Tag, Value>] = []
        for position in 0..<(lists.map(\.count).max() ?? 0) {
            for list in lists where position < list.count { result.append(list[position]) }
        }
        return result
    }

    /// Expects a failed outcome whose store error has one of `codes` (and a message).
    fileprivate static func expectFailure<Value>(
        _ outcome: Result<Value, InstanceStoreError>, _ codes: Set<InstanceStoreError.Code>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch outcome {
        case .success:
            Issue.record(
                "Expected one of \(codes.map(\.rawValue).sorted()), but the call succeeded",
                sourceLocation: sourceLocation)
        case .failure(let error):
            #expect(codes.contains(error.code), "\(error)", sourceLocation: sourceLocation)
            #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        }
    }
}
