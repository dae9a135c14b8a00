import Foundation
import InstanceStoreContract
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastStore
import Synchronization
import Testing

/// The control plane against a real SQLite file: a host holds the instance (it would keep it
/// loaded for a minute), and an operator with a store connection of its own — as a second
/// process has — sends messages and control commands through the application layer.
@Suite struct ControlPlaneTests {
    static let approval = try! WorkflowDefinition(
        name: "approval", version: "1", variables: ["orderId": nil, "order": nil, "status": "new", "count": 0],
        keys: ["orderId"], promote: ["status", "orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
        Persist()
        Pick {
            Trigger(Receive("approve", correlateOn: "orderId")) { Assign("status", "'approved'") }
            Trigger(Delay("PT1H")) { Assign("status", "'expired'") }
        }
        WriteLine("'order ' + orderId + ' is ' + status")
    }

    /// Its Receive for `approve` opens only after a short Delay.
    static let lateReceive = try! WorkflowDefinition(
        name: "late", version: "1", variables: ["orderId": nil, "status": "new"], keys: ["orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true)
        // Long enough that the message is surely stored before the Receive opens, even when
        // the crash test's hosts load the machine (0.3 s was not, once).
        Delay("PT2S")
        Receive("approve", correlateOn: "orderId")
        Assign("status", "'approved'")
    }

    /// Counts the `bump` messages it takes.
    static let counter = try! WorkflowDefinition(
        name: "counter", version: "1", variables: ["id": nil, "count": 0], keys: ["id"]
    ) {
        Receive("open", correlateOn: "id", createsInstance: true)
        While("count < 100") {
            Receive("bump", correlateOn: "id")
            Assign("count", "count + 1")
        }
    }

    let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-app-\(UUID()).db").path

    func configuration() -> StoreConfiguration { StoreConfiguration(url: "sqlite:\(path)") }

    /// A host that keeps what it loads for a minute, with its own store connection.
    func holder(_ definitions: [WorkflowDefinition], id: String = "holder") async throws -> (
        HostSession, any InstanceStore
    ) {
        let store = try await configuration().open()
        var options = HostOptions(hostID: id, timeToUnload: .seconds(60), runnableInstancesDetectionPeriod: .seconds(5))
        options.hostLockRenewalPeriod = .seconds(10)
        let session = HostSession(store: store, catalog: DefinitionCatalog(definitions), options: options)
        try await session.host.start()
        return (session, store)
    }

    /// The operator's side: a store connection of its own.
    func operatorService() async throws -> WorkflowService {
        WorkflowService(store: try await configuration().open())
    }

    func close(_ stores: [any InstanceStore], _ sessions: [HostSession]) async {
        for session in sessions { await session.host.stop() }
        for store in stores { await store.close() }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    @Test func messagesAndCommandsReachAnInstanceAHostHolds() async throws {
        let (session, hostStore) = try await holder([Self.approval])
        try await hostStore.setCompletionAction(.deleteNothing)
        let service = try await operatorService()
        let id = try await session.host.send(operation: "submit", body: ["orderId": 1]).entry.instanceID
        try await eventually { try await hostStore.readInstance(id).summary.lock?.hostID == "holder" }

        // A message by id: stored, applied by the holder (which keeps the lock), reported applied.
        let outcome = try await service.resume(
            id, operation: "approve", body: ["orderId": 1], through: nil, wait: .applied, timeout: .seconds(5))
        #expect(outcome.entry.state == .applied, "\(outcome)")
        #expect(outcome.instance?.status == .completed)
        #expect(outcome.instance?.variables?["status"] == "approved")
        // Every save writes the promoted properties; operators find instances by them.
        #expect(outcome.instance?.promotedProperties == ["status": "approved", "orderId": "1"])
        let found = try await service.list(
            InstanceQuery(promotedProperty: PromotedPropertyFilter(name: "status", value: "approved")))
        #expect(found.instances.map(\.id) == [id.uuidString])

        // Control commands to other held instances, each applied by the holder.
        let second = try await session.host.send(operation: "submit", body: ["orderId": 2]).entry.instanceID
        let third = try await session.host.send(operation: "submit", body: ["orderId": 3]).entry.instanceID
        let fourth = try await session.host.send(operation: "submit", body: ["orderId": 4]).entry.instanceID
        for held in [second, third, fourth] {
            try await eventually { try await hostStore.readInstance(held).summary.lock?.hostID == "holder" }
        }
        let suspended = try await service.control(second, .suspend, wait: .applied, timeout: .seconds(5))
        #expect(suspended.instance?.suspended == true)
        #expect(suspended.instance?.lockOwner == nil, "a suspended instance is saved and unloaded")
        let terminated = try await service.control(
            third, .terminate(reason: "fraud"), wait: .applied, timeout: .seconds(5))
        #expect(terminated.instance?.status == .terminated)
        #expect(terminated.instance?.terminationReason == "fraud")
        let canceled = try await service.control(
            fourth, .cancel(reason: "asked"), wait: .completed, timeout: .seconds(5))
        #expect(canceled.instance?.status == .canceled)
        await close([hostStore, service.store], [session])
    }

    @Test func abandonMakesTheHolderLetGoWithoutSaving() async throws {
        let (session, hostStore) = try await holder([Self.approval])
        let service = try await operatorService()
        let id = try await session.host.send(operation: "submit", body: ["orderId": 11]).entry.instanceID
        try await eventually { try await hostStore.readInstance(id).version >= 2 }
        let before = try await hostStore.readInstance(id)
        #expect(before.summary.lock?.hostID == "holder")
        let outcome = try await service.control(id, .abandon, wait: .applied, timeout: .seconds(5))
        #expect(outcome.entry.state == .applied)
        // Released without a save; it goes on from its last save on whichever host loads it next
        // (often this one again at once: it was saved at a persist point, so it has work).
        #expect(try await service.inbox(id).map(\.kind) == ["message", "abandon"])
        let after = try await hostStore.readInstance(id)
        #expect(after.version >= before.version && !after.status.isFinal)
        #expect(try InstanceState.decode(after.state).variables["orderId"] == 11)
        await close([hostStore, service.store], [session])
    }

    @Test func suspendThenSendThenUnsuspendDeliversInOrder() async throws {
        let (session, hostStore) = try await holder([Self.approval])
        try await hostStore.setCompletionAction(.deleteNothing)
        let service = try await operatorService()
        let id = try await session.host.send(operation: "submit", body: ["orderId": 7]).entry.instanceID
        try await eventually { try await hostStore.readInstance(id).summary.lock?.hostID == "holder" }

        _ = try await service.control(id, .suspend, wait: .applied, timeout: .seconds(5))
        // Suspended: the message waits, and the wait says why instead of running out.
        let waiting = try await service.resume(
            id, operation: "approve", body: ["orderId": 7], through: nil, wait: .applied, timeout: .seconds(5))
        #expect(waiting.entry.state == .pending)
        #expect(waiting.waiting?.contains("suspended") == true)
        #expect(try await hostStore.readInstance(id).status == .idle)

        // Unsuspended here (no host holds it now); the holder notices the message its Receive
        // takes and applies it at once, without waiting for a detection period.
        _ = try await service.control(id, .unsuspend, wait: .applied, timeout: .seconds(5))
        try await eventually { try await hostStore.readInstance(id).status == .completed }
        let history = try await service.inbox(id)
        #expect(history.map(\.kind) == ["message", "suspend", "message", "unsuspend"])
        #expect(history.allSatisfy { $0.state == .applied })
        await close([hostStore, service.store], [session])
    }

    @Test func aMessageSentBeforeItsReceiveOpensWaitsAndIsDelivered() async throws {
        let (session, hostStore) = try await holder([Self.lateReceive])
        try await hostStore.setCompletionAction(.deleteNothing)
        let service = try await operatorService()
        let id = try await session.host.send(operation: "submit", body: ["orderId": "A-1"]).entry.instanceID
        let early = try await service.resume(
            id, operation: "approve", body: ["orderId": "A-1"], through: nil, wait: .accepted)
        #expect(early.entry.state == .pending)
        try await eventually { try await hostStore.readInstance(id).status == .completed }
        #expect(try await hostStore.inboxEntry(early.entry.id)?.state == .applied)
        await close([hostStore, service.store], [session])
    }

    @Test func theSameClientIDIsAppliedOnce() async throws {
        let (session, hostStore) = try await holder([Self.counter])
        try await hostStore.setCompletionAction(.deleteNothing)
        let service = try await operatorService()
        let id = try await session.host.send(operation: "open", body: ["id": 1]).entry.instanceID
        for _ in 0..<3 {
            let outcome = try await service.resume(
                id, operation: "bump", body: ["id": 1], clientID: "retry-me", through: nil, wait: .applied,
                timeout: .seconds(5))
            #expect(outcome.entry.clientID == "retry-me")
        }
        _ = try await service.resume(
            id, operation: "bump", body: ["id": 1], through: nil, wait: .applied, timeout: .seconds(5))
        let view = try await service.show(id)
        #expect(view.variables?["count"] == 2)
        await close([hostStore, service.store], [session])
    }

    @Test func aMessageForAKeyNobodyHasIsRefusedAndNothingIsStored() async throws {
        let (session, hostStore) = try await holder([Self.approval])
        let service = try await operatorService()
        let id = try await session.host.send(operation: "submit", body: ["orderId": 5]).entry.instanceID
        try await eventually { try await hostStore.readInstance(id).version >= 2 }
        let before = try await hostStore.readInstance(id)
        await #expect(throws: ApplicationError.self) {
            _ = try await service.send("approve", body: ["orderId": 6], through: session)
        }
        // The string "5" is not the number 5.
        do {
            _ = try await service.send("approve", body: ["orderId": "5"], through: session)
            Issue.record("a message for the key \"5\" reached the instance keyed 5")
        } catch {
            #expect(error.code == .keyNotFound)
        }
        let after = try await hostStore.readInstance(id)
        #expect(after.version == before.version)
        #expect(try await hostStore.inbox(for: id, pendingOnly: false).count == 1)
        await close([hostStore, service.store], [session])
    }

    /// An instance saved under a definition that was then edited without a new version waits as
    /// blocked — not faulted — and runs as soon as a host has the original again.
    @Test func anEditedDefinitionBlocksItsInstancesUntilTheOriginalIsBack() async throws {
        let original = try WorkflowDefinition(name: "nap", version: "1", variables: ["done": false]) {
            Delay("PT0.2S")
            Assign("done", "true")
        }
        let edited = try WorkflowDefinition(name: "nap", version: "1", variables: ["done": false]) {
            Delay("PT0.2S")
            Assign("done", "'yes'")
        }
        #expect(original.identity != edited.identity)
        let store = try await configuration().open()
        try await store.setCompletionAction(.deleteNothing)
        var options = HostOptions(
            hostID: "starter", timeToUnload: .zero, runnableInstancesDetectionPeriod: .milliseconds(100))
        options.hostLockRenewalPeriod = .seconds(10)
        let starter = HostSession(store: store, catalog: DefinitionCatalog([original]), options: options)
        try await starter.host.start(background: false)
        let id = try await starter.host.startInstance(definitionName: "nap")
        try await eventually { try await store.readInstance(id).summary.lock == nil }
        await starter.host.stop()

        options.hostID = "edited"
        let wrong = HostSession(store: store, catalog: DefinitionCatalog([edited]), options: options)
        try await wrong.host.start()
        let service = WorkflowService(store: store)
        try await eventually {
            try await service.list(InstanceQuery(blocked: true)).instances.map(\.id) == [id.uuidString]
        }
        let blocked = try await service.show(id)
        #expect(blocked.status == .idle)
        #expect(blocked.blocked?.contains("fingerprint \(original.identity.fingerprint)") == true)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await store.readInstance(id).status == .idle, "never faulted, never run by the edited definition")
        await wrong.host.stop()

        options.hostID = "fixed"
        let right = HostSession(store: store, catalog: DefinitionCatalog([original]), options: options)
        try await right.host.start()
        try await eventually { try await store.readInstance(id).status == .completed }
        let done = try await service.show(id)
        #expect(done.blocked == nil)
        #expect(done.variables?["done"] == true)
        await close([store], [right])
    }

    /// A duplicate `submit` (no Receive takes it now) is stored and waits; the instance is not
    /// loaded or rewritten (before the inbox, the sender loaded it and saved it back, bumping its
    /// version).
    @Test func aDuplicateCreatingMessageDoesNotRewriteTheInstance() async throws {
        let store = try await configuration().open()
        let session = HostSession(
            store: store, catalog: DefinitionCatalog([Self.approval]),
            options: HostOptions(hostID: "sender", timeToUnload: .zero))
        try await session.host.start(background: false)
        let service = WorkflowService(store: store)
        let first = try await service.send("submit", body: ["orderId": 21], through: session)
        let id = try #require(UUID(uuidString: first.entry.instanceID))
        try await eventually { try await store.readInstance(id).summary.lock == nil }
        let before = try await store.readInstance(id)
        let again = try await service.send("submit", body: ["orderId": 21], through: session)
        #expect(again.entry.instanceID == id.uuidString)
        #expect(again.entry.state == .pending)
        #expect(again.waiting?.contains("not waiting for 'submit'") == true)
        let after = try await store.readInstance(id)
        #expect(after.version == before.version && after.state == before.state)
        await close([store], [session])
    }

    @Test func idsResolveByUniquePrefix() async throws {
        let (session, hostStore) = try await holder([Self.approval])
        let service = try await operatorService()
        let id = try await session.host.send(operation: "submit", body: ["orderId": 8]).entry.instanceID
        #expect(try await service.resolveID(String(id.uuidString.prefix(8)).lowercased()) == id)
        #expect(try await service.resolveID(id.uuidString) == id)
        await #expect(throws: ApplicationError.self) { _ = try await service.resolveID("not-hex!") }
        await close([hostStore, service.store], [session])
    }
}
