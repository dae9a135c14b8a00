import Foundation
import InstanceStoreContract
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastStore
import Testing

/// Rewinding, forking and recovering instances from their revisions, on each store (PostgreSQL
/// when the test server is configured, and always under CI).
@Suite struct RecoveryTests {
    static func open(_ backend: TestBackend) async throws -> (store: any InstanceStore, remove: @Sendable () -> Void) {
        let (url, remove) = try backend.freshStore()
        return (try await StoreConfiguration(url: url).open(), remove)
    }

    /// Faults once approved.
    static let broken = try! WorkflowDefinition(
        name: "billing", version: "1", variables: ["orderId": nil, "order": nil, "status": "new"], keys: ["orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
        Persist()
        Receive("approve", correlateOn: "orderId")
        Throw("'the billing service is broken'")
    }
    /// The fix: the same up to the approval; billing works after it.
    static let fixed = try! WorkflowDefinition(
        name: "billing", version: "2", variables: ["orderId": nil, "order": nil, "status": "new"], keys: ["orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
        Persist()
        Receive("approve", correlateOn: "orderId")
        Assign("status", "'billed'")
        WriteLine("'billed order ' + orderId")
    }
    /// Waits for another message where version 1 waits for `approve`.
    static let renamed = try! WorkflowDefinition(
        name: "billing", version: "3", variables: ["orderId": nil, "order": nil, "status": "new"], keys: ["orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
        Persist()
        Receive("approval", correlateOn: "orderId")
        Assign("status", "'billed'")
    }

    static func session(_ store: any InstanceStore, _ definitions: [WorkflowDefinition], host: String) -> HostSession {
        var options = HostOptions(hostID: host, timeToUnload: .zero, runnableInstancesDetectionPeriod: .seconds(5))
        options.tracking = .instance
        return HostSession(store: store, catalog: DefinitionCatalog(definitions), options: options)
    }

    /// A completed instance the completion action deleted comes back from its history at the
    /// revision that waited for the approval and completes again; a fork from that revision
    /// needs its own key and leaves the original alone. Refusals change nothing.
    @Test(arguments: TestBackend.available) func rewindAndForkACompletedInstance(_ backend: TestBackend) async throws {
        let (store, remove) = try await Self.open(backend)
        defer { remove() }
        let definitions = [ControlPlaneTests.approval]
        let catalog = DefinitionCatalog(definitions)
        let session = Self.session(store, definitions, host: "host-r")
        try await session.host.start()
        let service = WorkflowService(store: store)

        let id = try await session.host.send(operation: "submit", body: ["orderId": 5]).entry.instanceID
        try await eventually { try await store.readInstance(id).bookmarks.contains("approve") }
        let waiting = try await store.readInstance(id).version
        let done = try await service.send(
            "approve", body: ["orderId": 5], through: session, wait: .completed, timeout: .seconds(10))
        #expect(done.instance?.status == .completed)
        await #expect(throws: InstanceStoreError.self) { try await store.readInstance(id) }  // deleted

        let rewound = try await service.rewind(id, to: waiting, catalog: catalog)
        #expect(rewound.status == .idle && rewound.variables?["status"] == "new", "\(rewound)")
        #expect(rewound.bookmarks.map(\.operation) == ["approve"])
        var history = try await service.history(id)
        let completedAt = try #require(history.last { $0.kind == "completed" }?.version)
        #expect(rewound.version == completedAt + 1)
        #expect(history.last?.kind == "rewound", "\(history.map(\.kind))")
        #expect(history.last?.detail["to"] == .number(Double(waiting)))
        #expect(history.last?.detail["from"] == .number(Double(completedAt)))
        #expect(history.first?.kind == "created", "the history goes on where it stopped")

        // A fork from the same revision: the original holds orderId 5, so the fork needs its own.
        do {
            _ = try await service.fork(id, from: waiting, catalog: catalog)
            Issue.record("a fork took the original's key")
        } catch {
            #expect(error.code == .keyConflict && error.message.contains("--set orderId"), "\(error)")
        }
        let fork = try await service.fork(id, from: waiting, setting: ["orderId": 6], catalog: catalog)
        let forkID = try #require(UUID(uuidString: fork.id))
        #expect(forkID != id && fork.status == .idle && fork.keys == ["orderId": 6], "\(fork)")
        #expect(fork.variables?["order"] == ["orderId": 5], "the revision's variables come along")
        let forkHistory = try await service.history(forkID)
        #expect(forkHistory.map(\.kind) == ["forked"])
        #expect(forkHistory.first?.detail["instance"] == .string(id.uuidString.lowercased()))
        #expect(try await store.readInstance(id).version == rewound.version, "the original is left as it is")

        // Both run on: approved, each completes.
        for orderId in [5, 6] {
            let again = try await service.send(
                "approve", body: ["orderId": .number(Double(orderId))], through: session, wait: .completed,
                timeout: .seconds(10))
            #expect(again.instance?.status == .completed && again.instance?.variables?["status"] == "approved")
        }
        history = try await service.history(id)
        #expect(history.filter { $0.kind == "completed" }.count == 2)

        // Refused: a revision that does not exist, one that ended, a definition not given, a
        // held instance.
        await #expect(throws: ApplicationError.self) { try await service.rewind(id, to: 999, catalog: catalog) }
        do {
            _ = try await service.rewind(id, to: completedAt, catalog: catalog)
            Issue.record("rewound to a completed revision")
        } catch {
            #expect(error.code == .invalidInput && error.message.contains("completed"), "\(error)")
        }
        await #expect(throws: ApplicationError.self) {
            try await service.rewind(id, to: waiting, catalog: DefinitionCatalog([]))
        }
        var holding = session.host.options
        holding.timeToUnload = .seconds(60)
        let holder = HostSession(store: store, catalog: catalog, options: holding)
        try await holder.host.start()
        let held = try await holder.host.send(operation: "submit", body: ["orderId": 7]).entry.instanceID
        try await eventually { try await store.readInstance(held).summary.lock?.hostID == "host-r" }
        do {
            _ = try await service.rewind(held, to: 1, catalog: catalog)
            Issue.record("a held instance was rewound")
        } catch {
            #expect(error.code == .instanceLocked, "\(error)")
        }
        await holder.host.stop()
        await session.host.stop()
        await store.close()
    }

    /// A faulted instance is recovered onto the version that fixes it, from its last revision
    /// before the fault, and completes; a version that differs where it waits is refused with
    /// the difference named, changing nothing; a fork from before the fault runs the fix too.
    @Test(arguments: TestBackend.available) func recoverAFaultedInstanceOntoAFixedVersion(_ backend: TestBackend)
        async throws
    {
        let (store, remove) = try await Self.open(backend)
        defer { remove() }
        let service = WorkflowService(store: store)
        let old = Self.session(store, [Self.broken], host: "host-old")
        try await old.host.start()
        let id = try await old.host.send(operation: "submit", body: ["orderId": 7]).entry.instanceID
        try await eventually { try await store.readInstance(id).bookmarks.contains("approve") }
        _ = try await service.send("approve", body: ["orderId": 7], through: old, wait: .applied, timeout: .seconds(10))
        try await eventually { try await store.readInstance(id).status == .faulted }
        await old.host.stop()
        let faulted = try await service.show(id)
        #expect(faulted.fault?.message.contains("broken") == true, "\(faulted)")

        let catalog = DefinitionCatalog([Self.broken, Self.fixed, Self.renamed])
        do {
            _ = try await service.recover(id, onto: "3", catalog: catalog)
            Issue.record("recovered onto an incompatible version")
        } catch {
            #expect(error.code == .incompatibleDefinition, "\(error)")
            #expect(error.message.contains("'approve'") && error.message.contains("'approval'"), "\(error)")
            #expect(error.message.contains("body.sequence[2]"), "names where: \(error)")
        }
        let unchanged = try await service.show(id)
        #expect(unchanged.status == .faulted && unchanged.version == faulted.version)
        do {
            _ = try await service.recover(id, onto: "9", catalog: catalog)
            Issue.record("recovered onto a version not given")
        } catch {
            #expect(error.code == .definitionNotFound, "\(error)")
        }

        // A fork from before the fault, under the fix, with its own key.
        let history = try await service.history(id)
        let lastGood = try #require(history.last { $0.kind == "unloaded" }?.version)
        let fork = try await service.fork(id, from: lastGood, onto: "2", setting: ["orderId": 8], catalog: catalog)
        #expect(fork.definition.version == "2" && fork.bookmarks.map(\.operation) == ["approve"], "\(fork)")

        let recovered = try await service.recover(id, onto: "2", catalog: catalog)
        #expect(recovered.status == .idle && recovered.definition == Self.fixed.identity, "\(recovered)")
        #expect(recovered.bookmarks.map(\.operation) == ["approve"] && recovered.fault == nil)
        let rewound = try await service.history(id).last
        #expect(
            rewound?.kind == "rewound" && rewound?.detail["definitionVersion"] == "2", "\(String(describing: rewound))")
        #expect(rewound?.detail["to"] == .number(Double(lastGood)))
        do {
            _ = try await service.recover(id, catalog: catalog)
            Issue.record("recovered an instance that is not faulted")
        } catch {
            #expect(error.code == .conflict, "\(error)")
        }

        // A host of the fix runs both on.
        let new = Self.session(store, [Self.fixed], host: "host-new")
        try await new.host.start()
        for orderId in [7, 8] {
            let done = try await service.send(
                "approve", body: ["orderId": .number(Double(orderId))], through: new, wait: .completed,
                timeout: .seconds(10))
            #expect(done.instance?.status == .completed && done.instance?.variables?["status"] == "billed", "\(done)")
        }
        await new.host.stop()
        await store.close()
    }
}
