import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Synchronization
import Testing

@testable import SteadfastHost
@testable import SteadfastSQLite

/// Host behaviour against a real SQLite store in a temporary file.
@Suite struct HostTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-host-\(UUID()).db").path

    func store(_ action: InstanceCompletionAction = .deleteNothing) async throws -> SQLiteInstanceStore {
        let store = try await SQLiteInstanceStore(url: "sqlite:\(path)")
        try await store.setCompletionAction(action)
        return store
    }

    func host(
        _ store: any InstanceStore, _ definitions: [WorkflowDefinition], unload: Duration = .zero,
        id: String = "test-host",
        events: Recorder = Recorder()
    ) -> WorkflowHost {
        var options = HostOptions(
            hostID: id, timeToUnload: unload, runnableInstancesDetectionPeriod: .milliseconds(200))
        options.hostLockRenewalPeriod = .seconds(5)
        return WorkflowHost(store: store, catalog: DefinitionCatalog(definitions), options: options) {
            events.record($0)
        }
    }

    static let approval = approval(timeout: "PT0.3S")

    static func approval(timeout: String) -> WorkflowDefinition {
        try! WorkflowDefinition(
            name: "approval", version: "1", variables: ["orderId": nil, "order": nil, "status": "new"],
            keys: ["orderId"]
        ) {
            Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
            Persist()
            Pick {
                Trigger(Receive("approve", correlateOn: "orderId")) { Assign("status", "'approved'") }
                Trigger(Delay(timeout)) { Assign("status", "'expired'") }
            }
            WriteLine("'order ' + orderId + ' is ' + status")
        }
    }

    static let batch: WorkflowDefinition = try! WorkflowDefinition(name: "batch", version: "1", variables: ["n": 0]) {
        Assign("n", "n + 1")
        Persist()
        Delay("PT0.2S")
        Assign("n", "n + 1")
        Persist()
        WriteLine("'done ' + n")
    }

    @Test func instanceUnloadsAtADelayAndComesBackToComplete() async throws {
        let store = try await store()
        let events = Recorder()
        let host = host(store, [Self.batch], events: events)
        try await host.start()
        let id = try await host.startInstance(definitionName: "batch")
        try await eventually { events.lines(of: id) == ["done 2"] }
        // The line is reported as it is written; the completing save follows.
        try await eventually { try await store.readInstance(id).status == .completed }
        #expect(events.contains { if case .unloaded(id.uuidString, _?) = $0 { true } else { false } })
        #expect(events.contains { if case .loaded(id.uuidString) = $0 { true } else { false } })
        await host.stop()
        await store.close()
    }

    /// A message's wake finds its instance gone: another round (the inbox poll, detection,
    /// another host) applied it and the completion action deleted the instance. The send
    /// succeeded (first seen as `instance-not-found` from `POST /v1/messages` at 32 clients).
    @Test func wakingAnInstanceThatFinishedAndWasDeletedMeanwhileIsNotAnError() async throws {
        let store = try await store(.deleteAll)
        let host = host(store, [Self.approval(timeout: "PT1H")])
        try await host.start()
        let delivery = try await host.send(operation: "submit", body: ["orderId": 5])
        let id = delivery.entry.instanceID
        try await eventually { try await store.readInstance(id).status == .idle }
        let entry = try await store.enqueue(
            .message(operation: "approve", body: Data(#"{"orderId": 5}"#.utf8)), for: id, clientID: nil)
        try await eventually { (try? await store.readInstance(id)) == nil }
        try await host.wake(id, for: entry)
        await host.stop()
        await store.close()
    }

    @Test func messagesCreateAndCorrelate() async throws {
        let store = try await store()
        let events = Recorder()
        // A timeout no loaded machine reaches before the approval is sent.
        let host = host(store, [Self.approval(timeout: "PT1H")], events: events)
        try await host.start()
        let created = try await host.send(operation: "submit", body: ["orderId": 42, "total": 10])
        #expect(created.createdInstance)
        let id = created.entry.instanceID
        #expect(try await store.readInstance(id).keys == [InstanceKey(name: "orderId", value: 42)])
        try await eventually { try await store.readInstance(id).bookmarks == ["approve"] }
        try await host.send(operation: "approve", body: ["orderId": 42])
        try await eventually { events.lines(of: id) == ["order 42 is approved"] }
        // A message for an unknown key is refused clearly and stores nothing; the string "42" is
        // another key than the number 42.
        await #expect(throws: HostError.self) { try await host.send(operation: "approve", body: ["orderId": 7]) }
        await #expect(throws: HostError.self) { try await host.send(operation: "approve", body: ["orderId": "42"]) }
        await #expect(throws: HostError.self) { try await host.send(operation: "unknown-op", body: [:]) }
        await host.stop()
        await store.close()
    }

    @Test func pickTimeoutFiresWhenNoMessageComes() async throws {
        let store = try await store()
        let events = Recorder()
        let host = host(store, [Self.approval], events: events)
        try await host.start()
        let id = try await host.send(operation: "submit", body: ["orderId": "A-9"]).entry.instanceID
        try await eventually { events.lines(of: id) == ["order A-9 is expired"] }
        await host.stop()
        await store.close()
    }

    @Test func aCorruptStateFaultsThatInstanceOnlyAndKeepsItsBytes() async throws {
        let store = try await store()
        let events = Recorder()
        let host = host(store, [Self.batch], events: events)
        try await host.start(background: false)
        let owner = try await store.createLockOwner(hostID: "writer", lockDuration: .seconds(30))
        // A row whose state is garbage, due now.
        let garbage = Data("{\"format\":1,\"trunc".utf8)
        let bad = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id, definition: Self.batch.identity,
                snapshot: InstanceSnapshot(state: garbage, status: .idle, nextTimerAt: Date(timeIntervalSinceNow: -1))))
        _ = try await store.save(
            SaveRequest(
                instanceID: bad.id, owner: owner.id, expectedVersion: bad.version,
                snapshot: InstanceSnapshot(state: garbage, status: .idle, nextTimerAt: Date(timeIntervalSinceNow: -1)),
                lockAction: .unlock))
        let good = try await host.startInstance(definitionName: "batch")
        for _ in 0..<20 {
            _ = try await host.detectRunnableInstances()
            try await Task.sleep(for: .milliseconds(100))
        }
        try await eventually { events.lines(of: good) == ["done 2"] }
        let faulted = try await store.readInstance(bad.id)
        #expect(faulted.status == .faulted)
        #expect(faulted.summary.fault?.contains("cannot resume") == true)
        #expect(faulted.state == garbage, "the stored bytes are kept for inspection")
        await host.stop()
        await store.close()
    }

    @Test func aLockedInstanceIsNotRunByASecondHost() async throws {
        let store = try await store()
        let first = host(store, [Self.approval(timeout: "PT1H")], unload: .seconds(60), id: "first")
        let second = host(store, [Self.approval(timeout: "PT1H")], unload: .seconds(60), id: "second")
        try await first.start()
        try await second.start()
        let id = try await first.send(operation: "submit", body: ["orderId": 1]).entry.instanceID
        try await eventually { try await store.readInstance(id).version >= 2 }
        // The second host stores the message; the first, which holds the instance, applies it
        // (the second never loads it) and keeps it locked.
        let entry = try await second.deliver(to: id, operation: "approve", body: ["orderId": 1])
        try await eventually { try await store.inboxEntry(entry.id)?.state == .applied }
        let record = try await store.readInstance(id)
        #expect(record.status == .completed)
        #expect(try InstanceState.decode(record.state).variables["status"] == "approved")
        await first.stop()
        await second.stop()
        await store.close()
    }

    /// With a locked-instance retry policy, a host whose message found the instance held by
    /// another host loads it once that host lets it go, and applies the message itself. Neither
    /// host polls its inbox or runs detection here, so only the retry can apply it.
    @Test func aLockedInstanceIsRetriedAsThePolicySays() async throws {
        let store = try await store()
        let definitions = [Self.approval(timeout: "PT1H")]
        let first = host(store, definitions, unload: .seconds(60), id: "first")
        var options = HostOptions(hostID: "second", timeToUnload: .seconds(60))
        options.instanceLockedRetry = .basicRetry(interval: .milliseconds(100), timeout: .seconds(20))
        let events = Recorder()
        let second = WorkflowHost(store: store, catalog: DefinitionCatalog(definitions), options: options) {
            events.record($0)
        }
        try await first.start(background: false)
        try await second.start(background: false)
        let id = try await first.send(operation: "submit", body: ["orderId": 1]).entry.instanceID
        try await eventually { try await store.readInstance(id).version >= 2 }
        let entry = try await second.deliver(to: id, operation: "approve", body: ["orderId": 1])
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await store.inboxEntry(entry.id)?.state == .pending)
        await first.stop()  // saves and unlocks it
        try await eventually { try await store.inboxEntry(entry.id)?.state == .applied }
        #expect(events.contains { if case .loaded(id.uuidString) = $0 { true } else { false } })
        #expect(try await store.readInstance(id).status == .completed)
        await second.stop()
        await store.close()
    }
}

extension HostTests {
    @Test func aHostThatCannotRenewStopsWorkingOnItsInstances() async throws {
        let store = try await store()
        let events = Recorder()
        var options = HostOptions(
            hostID: "fragile", timeToUnload: .seconds(60), runnableInstancesDetectionPeriod: .milliseconds(100))
        // Short, but long enough that a loaded 2-core machine (the crash test's hosts running
        // beside it) still renews in time: a grace of 4 s was not, twice.
        options.hostLockRenewalPeriod = .seconds(1)
        options.hostLockGrace = .seconds(8)
        let fragile = WorkflowHost(
            store: store, catalog: DefinitionCatalog([Self.approval(timeout: "PT1H")]), options: options
        ) {
            events.record($0)
        }
        try await fragile.start()
        let id = try await fragile.send(operation: "submit", body: ["orderId": 9]).entry.instanceID
        try await eventually { try await store.readInstance(id).version >= 2 }
        // The host's lock owner disappears (as when a database failover loses it): renewals fail.
        let owner = try #require(try await store.readInstance(id).summary.lock?.ownerID)
        try await store.deleteLockOwner(owner)
        try await eventually(seconds: 30) {
            events.contains { if case .abandoned(id.uuidString, _) = $0 { true } else { false } }
        }
        // Nothing is held under the lost owner any more; the host may load the instance again,
        // but only under a new owner with a lock of its own.
        #expect(try await store.readInstance(id).summary.lock?.ownerID != owner)
        await fragile.stop()
        let other = host(store, [Self.approval(timeout: "PT1H")], unload: .zero, id: "other")
        try await other.start()
        let entry = try await other.deliver(to: id, operation: "approve", body: ["orderId": 9])
        try await eventually { try await store.inboxEntry(entry.id)?.state == .applied }
        await other.stop()
        #expect(try await store.readInstance(id).status == .completed)
        await store.close()
    }
}

extension HostTests {
    /// A host died right after saving at a persist point: the stored row is `running`, before
    /// the Receive the message is for. Delivering it saves the persist point, then applies it.
    @Test func aMessageForAnInstanceSavedAtAPersistPointIsApplied() async throws {
        let store = try await store()
        let definition = Self.approval(timeout: "PT1H")
        let id = UUID()
        var instance = try WorkflowInstance(definition: definition, instanceID: id.uuidString)
        _ = instance.run(now: .now)
        let atPersist = try instance.resume(operation: "submit", message: ["orderId": 77], now: .now)
        #expect(atPersist.persistRequested && atPersist.bookmarks.isEmpty)
        let dead = try await store.createLockOwner(hostID: "dead", lockDuration: .seconds(60))
        let record = try await store.createInstance(
            CreateInstanceRequest(
                id: id, owner: dead.id, definition: definition.identity,
                snapshot: instance.snapshot(suspended: false)))
        _ = try await store.save(
            SaveRequest(
                instanceID: id, owner: dead.id, expectedVersion: record.version,
                snapshot: instance.snapshot(suspended: false), lockAction: .unlock))
        let events = Recorder()
        let host = host(store, [definition], events: events)
        try await host.start(background: false)
        try await host.deliver(to: id, operation: "approve", body: ["orderId": 77])
        try await eventually { events.lines(of: id) == ["order 77 is approved"] }
        await host.stop()
        await store.close()
    }
}

extension HostTests {
    /// timeToPersist saves an idle instance and keeps it loaded and locked; timeToUnload then
    /// saves, unlocks and drops it.
    @Test func idlePolicySavesThenUnloads() async throws {
        let store = try await store()
        let events = Recorder()
        let options = HostOptions(
            hostID: "idle", timeToPersist: .milliseconds(100), timeToUnload: .seconds(3),
            runnableInstancesDetectionPeriod: .seconds(5))
        let host = WorkflowHost(
            store: store, catalog: DefinitionCatalog([Self.approval(timeout: "PT1H")]), options: options
        ) {
            events.record($0)
        }
        try await host.start()
        let id = try await host.send(operation: "submit", body: ["orderId": 3]).entry.instanceID
        // The persist point's save, then the idle save after timeToPersist: still locked to this host.
        try await eventually {
            let record = try await store.readInstance(id)
            return record.version >= 3 && record.bookmarks == ["approve"]
        }
        #expect(try await store.readInstance(id).summary.lock?.hostID == "idle")
        try await eventually { try await store.readInstance(id).summary.lock == nil }
        // Reported once the unlocking save has returned.
        try await eventually { events.contains { if case .unloaded(id.uuidString, _?) = $0 { true } else { false } } }
        await host.stop()
        await store.close()
    }
}

extension Instant {
    static var now: Instant { Instant(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) }
}

/// Collects host events from any thread.
final class Recorder: Sendable {
    private let storage = Mutex<[HostEvent]>([])

    func record(_ event: HostEvent) { storage.withLock { $0.append(event) } }

    var all: [HostEvent] { storage.withLock { $0 } }

    func contains(_ predicate: (HostEvent) -> Bool) -> Bool { storage.withLock { $0.contains(where: predicate) } }

    func lines(of id: UUID) -> [String] {
        storage.withLock { events in
            events.compactMap { if case .line(id.uuidString, let text) = $0 { text } else { nil } }
        }
    }
}

extension HostTests {
    /// A save that fails for a transient reason (another process holds SQLite's write lock past
    /// the busy timeout) must not strand the instance locked to a host that no longer runs it:
    /// the host releases the lock once the store answers again, and the instance goes on from
    /// its last save.
    @Test func aSaveThatFailsReleasesTheInstanceWhichThenGoesOn() async throws {
        let store = try await SQLiteInstanceStore(
            url: "sqlite:\(path)", sqliteOptions: SQLiteStoreOptions(busyTimeout: .milliseconds(50)))
        try await store.setCompletionAction(.deleteNothing)
        let events = Recorder()
        var options = HostOptions(
            hostID: "busy", timeToUnload: .seconds(60), runnableInstancesDetectionPeriod: .milliseconds(200))
        options.hostLockRenewalPeriod = .seconds(10)
        let host = WorkflowHost(store: store, catalog: DefinitionCatalog([Self.batch]), options: options) {
            events.record($0)
        }
        try await host.start()
        let id = try await host.startInstance(definitionName: "batch")
        // Saved at its first persist point, now in its 0.2 s Delay.
        try await eventually { try await store.readInstance(id).version >= 2 }
        let blocker = try SQLiteConnection(path: path)
        try blocker.executeScript("BEGIN IMMEDIATE")
        try await eventually {
            events.contains { if case .abandoned(id.uuidString, _) = $0 { true } else { false } }
        }
        try await Task.sleep(for: .milliseconds(300))
        try blocker.executeScript("ROLLBACK")
        try await eventually { try await store.readInstance(id).status == .completed }
        #expect(try InstanceState.decode(try await store.readInstance(id).state).variables["n"] == 2)
        await host.stop()
        blocker.close()
        await store.close()
    }
}

extension HostTests {
    /// A detection round that fails (the database held by another process past the busy
    /// timeout) is logged, at most about once a second, and the next round goes on: the timer
    /// that came due meanwhile fires once the database is free.
    @Test func aFailedDetectionRoundIsLoggedAndTheNextOneGoesOn() async throws {
        let store = try await SQLiteInstanceStore(
            url: "sqlite:\(path)", sqliteOptions: SQLiteStoreOptions(busyTimeout: .milliseconds(50)))
        try await store.setCompletionAction(.deleteNothing)
        let events = Recorder()
        var options = HostOptions(
            hostID: "detecting", timeToUnload: .zero, runnableInstancesDetectionPeriod: .milliseconds(200))
        options.hostLockRenewalPeriod = .seconds(10)
        let host = WorkflowHost(store: store, catalog: DefinitionCatalog([Self.batch]), options: options) {
            events.record($0)
        }
        try await host.start()
        let id = try await host.startInstance(definitionName: "batch")
        // Unloaded in its 0.2 s Delay; then the database is held while the timer comes due.
        try await eventually {
            events.contains { if case .unloaded(id.uuidString, _) = $0 { true } else { false } }
        }
        let blocker = try SQLiteConnection(path: path)
        try blocker.executeScript("BEGIN IMMEDIATE")
        try await eventually {
            events.contains { if case .detectionFailed = $0 { true } else { false } }
        }
        try await Task.sleep(for: .seconds(1))
        try blocker.executeScript("ROLLBACK")
        try await eventually { try await store.readInstance(id).status == .completed }
        let failures = events.all.filter { if case .detectionFailed = $0 { true } else { false } }
        #expect(failures.count <= 12, "\(failures.count) failure reports in about a second")
        await host.stop()
        blocker.close()
        await store.close()
    }
}
