import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastHost
@testable import SteadfastSQLite

/// The history a host records with its saves, on a real SQLite store.
@Suite struct HistoryTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-history-\(UUID()).db").path

    static let definition = try! WorkflowDefinition(
        name: "approval", version: "1", variables: ["orderId": nil, "order": nil, "status": "new"], keys: ["orderId"]
    ) {
        Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
        Persist()
        Delay("PT0.2S")
        Receive("approve", correlateOn: "orderId")
        Assign("status", "'approved'")
        WriteLine("'order ' + orderId + ' is ' + status")
    }

    func run(
        _ profile: TrackingProfile, byDefinition: [String: TrackingProfile] = [:], retention: Duration? = nil
    ) async throws -> (
        records: [HistoryRecord], store: SQLiteInstanceStore
    ) {
        let store = try await SQLiteInstanceStore(url: "sqlite:\(path)")
        try await store.setCompletionAction(.deleteAll)
        var options = HostOptions(
            hostID: "host-h", timeToUnload: .zero, runnableInstancesDetectionPeriod: .milliseconds(100))
        options.tracking = profile
        options.trackingByDefinition = byDefinition
        if let retention {
            options.historyRetention = retention
            options.hostLockRenewalPeriod = .milliseconds(200)
        }
        let host = WorkflowHost(store: store, catalog: DefinitionCatalog([Self.definition]), options: options)
        try await host.start()
        let id = try await host.send(operation: "submit", body: ["orderId": 7]).entry.instanceID
        try await eventually { try await store.readInstance(id).bookmarks.contains("approve") }
        _ = try await store.enqueue(.suspend, for: id, clientID: nil)
        try await eventually { try await store.readInstance(id).summary.isSuspended }
        _ = try await store.enqueue(.unsuspend, for: id, clientID: nil)
        try await eventually { try await !store.readInstance(id).summary.isSuspended }
        _ = try await host.send(operation: "approve", body: ["orderId": 7])
        try await eventually { (try? await store.readInstance(id)) == nil }
        if retention != nil {
            // The host's renewals remove the finished instance's history once it is old enough.
            try await eventually { try await store.history(of: id, after: nil, limit: 1).isEmpty }
        }
        await host.stop()
        return (try await store.history(of: id, after: nil, limit: 1000), store)
    }

    @Test func theFullProfileRecordsEveryEventFromStartToFinish() async throws {
        let (records, store) = try await run(.full)
        let kinds = Set(records.map(\.event.kind))
        for expected: HistoryKind in [
            .created, .activityStarted, .activityCompleted, .bookmarkOpened, .bookmarkResumed, .persisted,
            .timerSet, .timerFired, .unloaded, .loaded, .suspended, .unsuspended, .line, .completed,
        ] {
            #expect(kinds.contains(expected), "\(expected) in \(records.map(\.event.kind))")
        }
        // In order, as the saves that recorded them; versions never go back.
        #expect(records.first?.event.kind == .created && records.last?.event.kind == .completed)
        #expect(records.map(\.position) == records.map(\.position).sorted())
        let resumed = records.filter { $0.event.kind == .bookmarkResumed }.map { $0.event.detail["operation"] }
        #expect(resumed == ["submit", "approve"])
        #expect(records.last?.event.detail["output"]?["status"] == "approved")
        #expect(records.first { $0.event.kind == .line }?.event.detail["text"] == "order 7 is approved")
        let fired = try #require(records.first { $0.event.kind == .timerFired })
        #expect(fired.event.detail["due"] != nil && fired.event.detail["firedAt"] != nil)
        await store.close()
    }

    @Test func theInstanceProfileRecordsInstanceLevelEventsOnly() async throws {
        let (records, store) = try await run(.instance)
        let kinds = Set(records.map(\.event.kind))
        #expect(
            kinds.isSubset(of: [.created, .loaded, .persisted, .unloaded, .suspended, .unsuspended, .completed]),
            "\(kinds)")
        #expect(kinds.isSuperset(of: [.created, .persisted, .unloaded, .loaded, .suspended, .completed]), "\(kinds)")
        await store.close()
    }

    @Test func retentionRemovesTheHistoryOfAFinishedInstance() async throws {
        let (records, store) = try await run(.instance, retention: .milliseconds(300))
        #expect(records.isEmpty)
        await store.close()
    }

    @Test func theOffProfileRecordsNothing() async throws {
        let (records, store) = try await run(.off)
        #expect(records.isEmpty)
        await store.close()
    }

    /// A definition's own profile wins over the host's, both ways.
    @Test func aDefinitionsProfileWinsOverTheHosts() async throws {
        let (full, store) = try await run(.off, byDefinition: ["approval": .full, "other": .off])
        #expect(full.contains { $0.event.kind == .activityStarted } && full.last?.event.kind == .completed)
        await store.close()
        let (none, again) = try await run(.full, byDefinition: ["approval": .off])
        #expect(none.isEmpty)
        await again.close()
    }
}
