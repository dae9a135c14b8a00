import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Testing

@testable import SteadfastHost
@testable import SteadfastSQLite

/// A state larger than the store's `maxStateSize` faults that instance with the reason (its
/// last good save stays the one before; the fault is saved small), and the host goes on with
/// the others.
@Suite struct StateLimitTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-limit-\(UUID()).db").path

    static let growing = try! WorkflowDefinition(name: "growing", version: "1", variables: ["s": "12345678", "n": 0]) {
        Persist()
        While("n < 12") {
            Assign("s", "s + s")
            Assign("n", "n + 1")
        }
        Persist()
        WriteLine("'never'")
    }

    static let small = try! WorkflowDefinition(name: "small", version: "1") {
        Persist()
        WriteLine("'small done'")
    }

    @Test func aStateTooLargeFaultsOnlyItsInstance() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLiteInstanceStore(
            url: "sqlite:\(path)", options: InstanceStoreOptions(maxStateSize: 16 * 1024))
        try await store.setCompletionAction(.deleteNothing)
        let events = Recorder()
        let host = WorkflowHost(
            store: store, catalog: DefinitionCatalog([Self.growing, Self.small]),
            options: HostOptions(hostID: "limits", timeToUnload: .zero)
        ) { events.record($0) }
        try await host.start(background: false)
        let big = try await host.startInstance(definitionName: "growing")
        let fine = try await host.startInstance(definitionName: "small")
        try await eventually {
            let (bigStatus, fineStatus) = (
                try await store.readInstance(big).status, try await store.readInstance(fine).status
            )
            return bigStatus == .faulted && fineStatus == .completed
        }
        let record = try await store.readInstance(big)
        #expect(record.summary.fault?.contains("its state cannot be saved") == true, "\(record.summary)")
        #expect(record.summary.fault?.contains("limit of 16384 bytes") == true)
        #expect(record.summary.lock == nil)
        let state = try InstanceState.decode(record.state)
        #expect(state.status == .faulted && state.variables.isEmpty, "saved without the variables that were too large")
        #expect(events.lines(of: big).isEmpty)
        #expect(events.lines(of: fine) == ["small done"])
        await host.stop()
    }

    /// Under deleteAll a completed instance is deleted whatever the size of its final state:
    /// the limit is on what the store keeps, so it is not faulted for it.
    @Test func aLargeFinalStateThatIsDeletedIsNotFaulted() async throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try await SQLiteInstanceStore(
            url: "sqlite:\(path)", options: InstanceStoreOptions(maxStateSize: 16 * 1024))
        let events = Recorder()
        let grows = try WorkflowDefinition(name: "grows", version: "1", variables: ["s": "12345678", "n": 0]) {
            While("n < 12") {
                Assign("s", "s + s")
                Assign("n", "n + 1")
            }
            WriteLine("'done'")
        }
        let host = WorkflowHost(
            store: store, catalog: DefinitionCatalog([grows]),
            options: HostOptions(hostID: "limits", timeToUnload: .zero)
        ) { events.record($0) }
        try await host.start(background: false)
        let id = try await host.startInstance(definitionName: "grows")
        try await eventually {
            events.contains {
                if case .finished(id.uuidString, let state) = $0 { state.status == .completed } else { false }
            }
        }
        #expect(events.lines(of: id) == ["done"])
        #expect(try await store.listInstances(.all).isEmpty, "deleted, as deleteAll does with a completed instance")
        await host.stop()
    }
}
