import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastSQLite
import SteadfastStore
import Testing

/// A running `wf serve` holds the instances (it would keep them loaded for 60 s); every command
/// comes from other `wf` processes and must reach them. Behaviour checks, not timings: the
/// latency figures are in `host-bench`.
@Suite(.serialized) struct ControlPlaneProcessTests {
    /// Opened by a message, then (after a short Delay) counts `bump` messages until `close`.
    static let ticket = """
        { "name": "ticket", "version": "1", "variables": { "id": null, "count": 0, "status": "open" },
          "keys": ["id"],
          "body": { "sequence": [
            { "receive": { "operation": "open", "correlateOn": "id", "createsInstance": true } },
            { "delay": { "duration": "PT0.3S" } },
            { "while": { "condition": "status == 'open'", "body":
              { "pick": [
                { "trigger": { "receive": { "operation": "bump", "correlateOn": "id" } },
                  "action": { "assign": { "to": "count", "value": "count + 1" } } },
                { "trigger": { "receive": { "operation": "close", "correlateOn": "id" } },
                  "action": { "assign": { "to": "status", "value": "'closed'" } } } ] } } },
            { "writeLine": { "text": "'ticket ' + id + ' closed after ' + count" } } ] } }
        """

    /// Opens tickets `ids` (one `wf send` each) and waits until the serving host holds them all.
    static func openTickets(_ fixture: StoreFixture, _ ids: Range<Int>, definitions: URL) async throws -> [Int: UUID] {
        var instances: [Int: UUID] = [:]
        for id in ids {
            let run = try await fixture.wf(
                "send", "open", "--body", #"{"id": \#(id)}"#, "--definitions", definitions.path, "--store",
                fixture.url, "--json")
            #expect(run.status == 0, "\(run)")
            let entry = (try run.json() as? [String: Any])?["entry"] as? [String: Any]
            let text = try #require(entry?["instanceID"] as? String, "\(run)")
            instances[id] = try #require(UUID(uuidString: text))
        }
        try await eventually(seconds: 30) {
            var held = 0
            for id in instances.values where try await fixture.store.readInstance(id).summary.lock?.hostID == "server" {
                held += 1
            }
            return held == instances.count
        }
        return instances
    }

    static func count(_ fixture: StoreFixture, _ id: UUID) async throws -> JSONValue? {
        try InstanceState.decode(try await fixture.store.readInstance(id).state).variables["count"]
    }

    @Test func commandsFromOtherProcessesReachInstancesAServeHolds() async throws {
        let fixture = try await StoreFixture()
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.ticket)
        let server = try HostProcessTests.Serve(fixture, hostID: "server", definitions: definitions, detection: "5")
        let tickets = try await Self.openTickets(fixture, 1..<6, definitions: definitions)
        func wf(_ arguments: String...) async throws -> WFRun {
            try await fixture.wf(arguments + ["--store", fixture.url, "--definitions", definitions.path])
        }
        func control(_ arguments: String...) async throws -> WFRun {
            try await fixture.wf(arguments + ["--store", fixture.url])
        }

        // A message: applied by the holder, which keeps the instance.
        let bump = try await wf("send", "bump", "--body", #"{"id": 1}"#, "--json")
        #expect(bump.status == 0, "\(bump)")
        #expect(((try bump.json() as? [String: Any])?["entry"] as? [String: Any])?["state"] as? String == "applied")
        #expect(try await Self.count(fixture, tickets[1]!) == 1)
        #expect(try await fixture.store.readInstance(tickets[1]!).summary.lock?.hostID == "server")

        // The same client id twice: applied once.
        for _ in 0..<2 {
            let retry = try await wf("send", "bump", "--body", #"{"id": 1}"#, "--client-id", "retry-1")
            #expect(retry.status == 0, "\(retry)")
        }
        #expect(try await Self.count(fixture, tickets[1]!) == 2)

        // Suspend, send (it waits), unsuspend: then it is delivered.
        let prefix = String(tickets[2]!.uuidString.prefix(8))
        let suspend = try await control("suspend", prefix)
        #expect(suspend.status == 0, "\(suspend)")
        #expect(try await fixture.store.readInstance(tickets[2]!).summary.isSuspended)
        let waiting = try await wf("send", "bump", "--body", #"{"id": 2}"#)
        #expect(waiting.status == 0, "\(waiting)")
        #expect(waiting.stderr.contains("suspended"), "\(waiting)")
        #expect(try await Self.count(fixture, tickets[2]!) == 0)
        let unsuspend = try await control("unsuspend", prefix)
        #expect(unsuspend.status == 0, "\(unsuspend)")
        try await eventually { try await Self.count(fixture, tickets[2]!) == 1 }

        // Terminate and cancel, each applied by the holder; both are kept with their reason
        // (the fixture's store keeps finished instances).
        let terminate = try await control("terminate", tickets[3]!.uuidString, "--reason", "duplicate", "--json")
        #expect(terminate.status == 0, "\(terminate)")
        let terminated = try await fixture.store.readInstance(tickets[3]!)
        #expect(terminated.status == .terminated)
        #expect(try InstanceState.decode(terminated.state).terminationReason == "duplicate")
        let cancel = try await control("cancel", tickets[4]!.uuidString)
        #expect(cancel.status == 0, "\(cancel)")
        #expect(try await fixture.store.readInstance(tickets[4]!).status == .canceled)

        // Closing completes the ticket; `--wait completed` returns once it has finished.
        let close = try await wf("send", "close", "--body", #"{"id": 5}"#, "--wait", "completed", "--json")
        #expect(close.status == 0, "\(close)")
        let closed = (try close.json() as? [String: Any])?["instance"] as? [String: Any]
        #expect(closed?["status"] as? String == "completed", "\(close)")

        // A message for a key nobody has is refused, and nothing is stored.
        let unknown = try await wf("send", "bump", "--body", #"{"id": 99}"#, "--json")
        expectJSONError(unknown, code: "key-not-found")
        await server.stop()
        #expect(server.lines.contains("ticket 5 closed after 0"))
        await fixture.destroy()
    }

    @Test func aMessageSentBeforeItsReceiveOpensIsDeliveredLater() async throws {
        let fixture = try await StoreFixture()
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.ticket)
        let server = try HostProcessTests.Serve(fixture, hostID: "server", definitions: definitions, detection: "5")
        // Opened and, within its 0.3 s Delay, bumped: no Receive takes `bump` yet.
        let open = try await fixture.wf(
            "send", "open", "--body", #"{"id": 7}"#, "--definitions", definitions.path, "--store", fixture.url, "--json"
        )
        let id = try #require(
            ((try open.json() as? [String: Any])?["entry"] as? [String: Any])?["instanceID"] as? String)
        let early = try await fixture.wf(
            "send", "bump", "--body", #"{"id": 7}"#, "--definitions", definitions.path, "--store", fixture.url)
        #expect(early.status == 0, "\(early)")
        try await eventually { try await Self.count(fixture, UUID(uuidString: id)!) == 1 }
        await server.stop()
        await fixture.destroy()
    }

    @Test func fiftyConcurrentSendsToFiftyInstancesEachApplyOnce() async throws {
        let fixture = try await StoreFixture()
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.ticket)
        let server = try HostProcessTests.Serve(fixture, hostID: "server", definitions: definitions, detection: "5")
        let tickets = try await Self.openTickets(fixture, 100..<150, definitions: definitions)
        let runs = try await withThrowingTaskGroup(of: WFRun.self) { group in
            for id in tickets.keys {
                group.addTask {
                    try await fixture.wf(
                        "send", "bump", "--body", #"{"id": \#(id)}"#, "--definitions", definitions.path, "--store",
                        fixture.url, "--timeout", "60")
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for run in runs { #expect(run.status == 0, "\(run)") }
        for (_, instance) in tickets { #expect(try await Self.count(fixture, instance) == 1) }
        await server.stop()
        await fixture.destroy()
    }
}

extension ControlPlaneProcessTests {
    /// A folder with a broken file: the others are hosted and the broken one is named; two files
    /// defining one name and version differently are refused, naming both.
    @Test func definitionFoldersSkipABrokenFileAndRefuseConflictingVersions() async throws {
        let fixture = try await StoreFixture()
        let folder = try HostProcessTests.writeDefinition(fixture, Self.ticket)
        try Data("{ not json".utf8).write(to: folder.appendingPathComponent("broken.json"))
        let open = try await fixture.wf(
            "send", "open", "--body", #"{"id": 1}"#, "--definitions", folder.path, "--store", fixture.url)
        #expect(open.status == 0, "\(open)")
        #expect(open.stderr.contains("skipped: \(folder.appendingPathComponent("broken.json").path)"), "\(open)")

        let edited = Self.ticket.replacingOccurrences(of: "PT0.3S", with: "PT0.4S")
        try Data(edited.utf8).write(to: folder.appendingPathComponent("ticket-edited.json"))
        let conflict = try await fixture.wf(
            "send", "open", "--body", #"{"id": 2}"#, "--definitions", folder.path, "--store", fixture.url, "--json")
        expectJSONError(conflict, code: "invalid-definition")
        #expect(conflict.stdout.contains("steps.json") && conflict.stdout.contains("ticket-edited.json"), "\(conflict)")
        await fixture.destroy()
    }

    /// SIGTERM to `wf run --wait` saves and unlocks the instance it holds, like `wf serve`.
    @Test func sigtermToRunWaitSavesAndUnlocks() async throws {
        let fixture = try await StoreFixture()
        let file = fixture.folder.appendingPathComponent("nap.json")
        try Data(
            #"{"name": "nap", "version": "1", "body": {"sequence": [{"persist": {}}, {"delay": {"duration": "PT1H"}}]}}"#
                .utf8
        ).write(to: file)
        let binary = try #require(WFBinary.url)
        let process = Process()
        process.executableURL = binary
        process.arguments = ["run", file.path, "--wait", "--store", fixture.url, "--time-to-unload", "600"]
        process.currentDirectoryURL = fixture.folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Never leave the process behind, whatever the test finds.
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await eventually {
            let held = try await fixture.store.listInstances(.all)
            return held.count == 1 && held[0].lock != nil && held[0].version >= 2
        }
        kill(process.processIdentifier, SIGTERM)
        try await eventually { !process.isRunning }
        let instance = try #require(try await fixture.store.listInstances(.all).first)
        #expect(instance.lock == nil, "saved and unlocked on SIGTERM")
        #expect(instance.status == .idle && instance.nextTimerAt != nil)
        await fixture.destroy()
    }
}
