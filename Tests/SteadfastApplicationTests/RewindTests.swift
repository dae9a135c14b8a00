import Foundation
import InstanceStoreContract
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastStore
import Testing

/// Rewinding an instance to one of its revisions, against a real SQLite file.
@Suite struct RewindTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-rewind-\(UUID()).db").path

    /// A completed instance is put back to the revision that waited for the approval; approved
    /// again, it completes again. A held instance is refused; its history records the rewind.
    @Test func aCompletedInstanceIsRewoundAndRunsOnFromThere() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let definitions = [ControlPlaneTests.approval]
        let store = try await StoreConfiguration(url: "sqlite:\(path)").open()
        try await store.setCompletionAction(.deleteNothing)
        var options = HostOptions(hostID: "host-r", timeToUnload: .zero, runnableInstancesDetectionPeriod: .seconds(5))
        options.tracking = .instance
        let session = HostSession(store: store, catalog: DefinitionCatalog(definitions), options: options)
        try await session.host.start()
        let service = WorkflowService(store: store)
        let catalog = DefinitionCatalog(definitions)

        let id = try await session.host.send(operation: "submit", body: ["orderId": 5]).entry.instanceID
        try await eventually { try await store.readInstance(id).bookmarks.contains("approve") }
        let waiting = try await store.readInstance(id).version
        _ = try await service.send(
            "approve", body: ["orderId": 5], through: session, wait: .completed, timeout: .seconds(10))
        let completed = try await store.readInstance(id)
        #expect(completed.status == .completed)

        let rewound = try await service.rewind(id, to: waiting, catalog: catalog)
        #expect(rewound.status == .idle && rewound.variables?["status"] == "new", "\(rewound)")
        #expect(rewound.bookmarks.map(\.operation) == ["approve"])
        #expect(try await store.readInstance(id).version == completed.version + 1)
        let history = try await service.history(id)
        #expect(history.last?.kind == "rewound", "\(history.map(\.kind))")
        #expect(history.last?.detail["to"] == .number(Double(waiting)))

        // It runs on from there: approved again, it completes again.
        let again = try await service.send(
            "approve", body: ["orderId": 5], through: session, wait: .completed, timeout: .seconds(10))
        #expect(again.instance?.status == .completed && again.instance?.variables?["status"] == "approved")

        // Refused: a revision that does not exist, a definition not given, a held instance.
        await #expect(throws: ApplicationError.self) { try await service.rewind(id, to: 999, catalog: catalog) }
        await #expect(throws: ApplicationError.self) {
            try await service.rewind(id, to: waiting, catalog: DefinitionCatalog([]))
        }
        var holding = options
        holding.timeToUnload = .seconds(60)
        let holder = HostSession(store: store, catalog: catalog, options: holding)
        try await holder.host.start()
        let held = try await holder.host.send(operation: "submit", body: ["orderId": 6]).entry.instanceID
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
}
