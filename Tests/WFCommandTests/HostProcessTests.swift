import Foundation
import SteadfastCore
import SteadfastSQLite
import SteadfastStore
import Testing

/// Real `wf serve` processes on one store (a SQLite file, and a PostgreSQL database when the
/// tests have a server): a host killed with SIGKILL while it holds
/// instances, and two hosts sharing many instances. Behaviour checks with generous deadlines,
/// not timings.
@Suite(.serialized) struct HostProcessTests {
    /// Three steps with a Persist after each and Delays between; every line carries the
    /// instance's tag so the logs show how often each step ran.
    static func definition(delay: String) -> String {
        """
        { "name": "steps", "version": "1", "variables": { "tag": "", "done": 0 },
          "body": { "sequence": [
            { "delay": { "duration": "PT0S" } },
            { "writeLine": { "text": "'s1 ' + tag" } }, { "assign": { "to": "done", "value": "done + 1" } }, { "persist": {} },
            { "delay": { "duration": "\(delay)" } },
            { "writeLine": { "text": "'s2 ' + tag" } }, { "assign": { "to": "done", "value": "done + 1" } }, { "persist": {} },
            { "delay": { "duration": "\(delay)" } },
            { "writeLine": { "text": "'s3 ' + tag" } }, { "assign": { "to": "done", "value": "done + 1" } }, { "persist": {} } ] } }
        """
    }

    /// Stores `count` instances waiting on their first (already due) Delay, unlocked.
    static func seed(_ fixture: StoreFixture, definitionJSON: String, count: Int) async throws -> [UUID] {
        let definition = try WorkflowDefinition(json: Data(definitionJSON.utf8))
        let creator = try await fixture.store.createLockOwner(hostID: "seeder", lockDuration: .seconds(60))
        var ids: [UUID] = []
        let now = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
        for _ in 0..<count {
            let id = UUID()
            var instance = try WorkflowInstance(
                definition: definition, instanceID: id.uuidString, input: ["tag": .string(id.uuidString)])
            _ = instance.run(now: now)
            let snapshot = try StoreFixture.snapshot(of: instance.state)
            let record = try await fixture.store.createInstance(
                CreateInstanceRequest(
                    id: id, owner: creator.id,
                    definition: definition.identity,
                    snapshot: snapshot))
            _ = try await fixture.store.save(
                SaveRequest(
                    instanceID: id, owner: creator.id, expectedVersion: record.version, snapshot: snapshot,
                    lockAction: .unlock))
            ids.append(id)
        }
        try await fixture.store.deleteLockOwner(creator.id)
        return ids
    }

    /// A `wf serve` process whose output goes to files in the fixture's folder.
    final class Serve: Sendable {
        let process: Process
        let stdout: URL
        let stderr: URL

        init(_ fixture: StoreFixture, hostID: String, definitions: URL, detection: String = "0.2") throws {
            let binary = try #require(WFBinary.url, "the wf binary was not found next to the test bundle")
            stdout = fixture.folder.appendingPathComponent("\(hostID).out")
            stderr = fixture.folder.appendingPathComponent("\(hostID).err")
            _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process = Process()
            process.executableURL = binary
            process.arguments = [
                "serve", "--definitions", definitions.path, "--store", fixture.url, "--host-id", hostID,
                "--detection-period", detection, "--lock-renewal", "1", "--time-to-unload", "60",
            ]
            process.currentDirectoryURL = fixture.folder
            process.standardOutput = try FileHandle(forWritingTo: stdout)
            process.standardError = try FileHandle(forWritingTo: stderr)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        func stop(signal: Int32 = SIGTERM) async {
            kill(process.processIdentifier, signal)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }

        /// The workflow's lines in the host's log: "2026-… [1A2B3C4D] s2 <tag>" → "s2 <tag>".
        var lines: [String] {
            String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self).split(separator: "\n").map {
                // "[1A2B3C4D] s2 <tag>" → "s2 <tag>"
                $0.split(separator: "] ", maxSplits: 1).last.map(String.init) ?? String($0)
            }
        }
    }

    static func writeDefinition(_ fixture: StoreFixture, _ json: String) throws -> URL {
        let folder = fixture.folder.appendingPathComponent("definitions")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(json.utf8).write(to: folder.appendingPathComponent("steps.json"))
        return folder
    }

    static func waitUntilCompleted(_ fixture: StoreFixture, _ ids: [UUID], seconds: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(seconds)
        var completed = 0
        while ContinuousClock.now < deadline {
            completed = try await fixture.store.listInstances(
                InstanceQuery(statuses: [.completed], limit: ids.count + 10)
            ).count
            if completed == ids.count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return completed
    }

    @Test(arguments: StoreKind.available)
    func aKilledHostsInstancesCompleteOnAnotherHostExactlyOnce(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { Task { await fixture.destroy() } }
        let definitions = try Self.writeDefinition(fixture, Self.definition(delay: "PT3S"))
        let ids = try await Self.seed(fixture, definitionJSON: Self.definition(delay: "PT3S"), count: 40)
        let first = try Serve(fixture, hostID: "host-a", definitions: definitions)
        // Wait until host A holds every instance, saved after step 1 (seeding leaves version 2),
        // waiting on its second Delay.
        let deadline = ContinuousClock.now + .seconds(20)
        var held = 0
        while ContinuousClock.now < deadline {
            let all = try await fixture.store.listInstances(InstanceQuery(limit: 100))
            held = all.filter { $0.lock?.hostID == "host-a" && $0.version >= 3 }.count
            if held == ids.count { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(held == ids.count, "host A holds \(held) of \(ids.count) instances")
        await first.stop(signal: SIGKILL)
        let second = try Serve(fixture, hostID: "host-b", definitions: definitions)
        let completed = try await Self.waitUntilCompleted(fixture, ids, seconds: 40)
        await second.stop()
        #expect(
            completed == ids.count,
            "\(completed) of \(ids.count) completed; host B said: \(String(decoding: (try? Data(contentsOf: second.stderr)) ?? Data(), as: UTF8.self).suffix(2000))"
        )
        let linesA = first.lines
        let linesB = second.lines
        for id in ids {
            let record = try await fixture.store.readInstance(id)
            #expect(record.status == .completed)
            let state = try SteadfastCore.InstanceState.decode(record.state)
            #expect(
                state.variables["done"] == 3,
                "instance \(id) ran its persisted steps \(state.variables["done"] ?? nil) times")
            // Step 1 was persisted on host A before the kill: it never runs again.
            #expect(linesA.filter { $0 == "s1 \(id)" }.count == 1)
            #expect(!linesB.contains("s1 \(id)"))
            // Steps 2 and 3 ran on host B, once each.
            #expect(linesB.filter { $0 == "s2 \(id)" }.count == 1)
            #expect(linesB.filter { $0 == "s3 \(id)" }.count == 1)
        }
    }

    @Test(arguments: StoreKind.available)
    func twoHostsShareFiveHundredInstancesAndRunEachStepOnce(_ kind: StoreKind) async throws {
        let fixture = try await StoreFixture(kind)
        defer { Task { await fixture.destroy() } }
        let json = Self.definition(delay: "PT0.5S")
        let definitions = try Self.writeDefinition(fixture, json)
        let ids = try await Self.seed(fixture, definitionJSON: json, count: 500)
        let hostA = try Serve(fixture, hostID: "host-a", definitions: definitions)
        let hostB = try Serve(fixture, hostID: "host-b", definitions: definitions)
        let completed = try await Self.waitUntilCompleted(fixture, ids, seconds: 90)
        await hostA.stop()
        await hostB.stop()
        #expect(completed == ids.count)
        var counts: [String: Int] = [:]
        for line in hostA.lines + hostB.lines { counts[line, default: 0] += 1 }
        for id in ids {
            for step in ["s1", "s2", "s3"] {
                #expect(counts["\(step) \(id)"] == 1, "\(step) of \(id) ran \(counts["\(step) \(id)"] ?? 0) times")
            }
        }
        // Both hosts did part of the work.
        #expect(
            !hostA.lines.isEmpty && !hostB.lines.isEmpty, "A: \(hostA.lines.count) lines, B: \(hostB.lines.count) lines"
        )
        print("two hosts on \(kind), 500 instances: host A ran \(hostA.lines.count) steps, host B \(hostB.lines.count)")
    }
}
