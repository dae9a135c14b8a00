import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastStore
import Testing

/// Many `wf serve` processes on one PostgreSQL database: hosts that share the work, one killed
/// with SIGKILL mid-run, one frozen past its lock's expiry, and the database restarted under
/// them. Behaviour checks with generous deadlines, not timings.
@Suite(.serialized, .enabled(if: PostgresTestServer.enabled))
struct ManyHostsTests {
    /// Steps with a Persist after each, Delays between, and a Receive the test answers; every
    /// step line carries the instance's tag. `done` counts the steps in the saved state: a step
    /// run again after its Persist committed would leave it above 3.
    static let definition = """
        { "name": "steps", "version": "1", "variables": { "tag": "", "done": 0, "note": null },
          "body": { "sequence": [
            { "delay": { "duration": "PT0S" } },
            { "writeLine": { "text": "'s1 ' + tag" } }, { "assign": { "to": "done", "value": "done + 1" } }, { "persist": {} },
            { "delay": { "duration": "PT0.5S" } },
            { "writeLine": { "text": "'s2 ' + tag" } }, { "assign": { "to": "done", "value": "done + 1" } }, { "persist": {} },
            { "receive": { "operation": "poke", "assignTo": "note" } },
            { "delay": { "duration": "PT0.5S" } },
            { "writeLine": { "text": "'s3 ' + tag" } }, { "assign": { "to": "done", "value": "done + 1" } }, { "persist": {} } ] } }
        """

    /// Every instance completed, its three steps counted once in its state, its message applied.
    static func expectEachCompletedOnce(_ fixture: StoreFixture, _ ids: [UUID]) async throws {
        for id in ids {
            let record = try await fixture.store.readInstance(id)
            #expect(record.status == .completed, "\(id) is \(record.status)")
            let state = try SteadfastCore.InstanceState.decode(record.state)
            #expect(state.variables["done"] == 3, "\(id) counted \(state.variables["done"] ?? nil) steps")
            #expect(
                state.variables["note"] == .string(id.uuidString), "\(id) got note \(state.variables["note"] ?? nil)")
        }
    }

    static func poke(_ fixture: StoreFixture, _ ids: some Sequence<UUID>) async throws {
        for id in ids {
            _ = try await fixture.store.enqueueMessage(
                for: id, operation: "poke", body: Data(#""\#(id.uuidString)""#.utf8), clientID: "poke")
        }
    }

    static func stepCounts(_ hosts: [HostProcessTests.Serve]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for host in hosts {
            for line in host.lines where ["s1 ", "s2 ", "s3 "].contains(where: line.hasPrefix) {
                counts[line, default: 0] += 1
            }
        }
        return counts
    }

    /// The instances (their ids' first 8 characters) the hosts stopped working on unsaved.
    static func letGo(_ hosts: [HostProcessTests.Serve]) -> Set<String> {
        var prefixes = Set<String>()
        for host in hosts {
            let log = String(decoding: (try? Data(contentsOf: host.stderr)) ?? Data(), as: UTF8.self)
            for line in log.split(separator: "\n") where line.contains("] stopped working on the instance") {
                guard let open = line.firstIndex(of: "[") else { continue }
                prefixes.insert(String(line[line.index(after: open)...].prefix(8)))
            }
        }
        return prefixes
    }

    @Test func threeHostsThousandInstancesOneKilledEveryInstanceCompletesOnce() async throws {
        let fixture = try await StoreFixture(.postgres)
        defer { Task { await fixture.destroy() } }
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.definition)
        let ids = try await HostProcessTests.seed(fixture, definitionJSON: Self.definition, count: 1000)
        let hosts = try ["host-a", "host-b", "host-c"].map {
            try HostProcessTests.Serve(fixture, hostID: $0, definitions: definitions)
        }
        defer { for host in hosts where host.process.isRunning { kill(host.process.processIdentifier, SIGKILL) } }
        // Messages from another process (this one) to instances the hosts hold, some before
        // their Receive is open; a tenth suspended for a while, then unsuspended.
        let suspended = Array(ids.prefix(100))
        for id in suspended { _ = try await fixture.store.enqueue(.suspend, for: id, clientID: nil) }
        try await Self.poke(fixture, ids.dropFirst(100).prefix(450))
        try await Task.sleep(for: .seconds(1))
        await hosts[2].stop(signal: SIGKILL)
        try await Self.poke(fixture, ids.dropFirst(550))
        try await Self.poke(fixture, suspended)
        let stillSuspended = try await fixture.store.listInstances(InstanceQuery(suspended: true, limit: 1000)).count
        for id in suspended { _ = try await fixture.store.enqueue(.unsuspend, for: id, clientID: nil) }
        let completed = try await HostProcessTests.waitUntilCompleted(fixture, ids, seconds: 120)
        await hosts[0].stop()
        await hosts[1].stop()
        #expect(completed == ids.count, "\(completed) of \(ids.count) completed")
        #expect(stillSuspended > 0, "the suspensions were applied before the unsuspend was sent")
        try await Self.expectEachCompletedOnce(fixture, ids)
        // The surviving hosts ran each step at most once (a step the killed host ran without
        // saving may run again there; one it saved never does: `done` would be 4) — unless a
        // survivor itself let the instance go unsaved (its lock renewal came too late on a
        // loaded machine, say), which it logs.
        let survivors = Self.stepCounts(Array(hosts.prefix(2)))
        let letGo = Self.letGo(Array(hosts.prefix(2)))
        let twice = survivors.filter { $0.value > 1 && !letGo.contains(String($0.key.dropFirst(3).prefix(8))) }.keys
        #expect(twice.isEmpty, "\(twice.count) steps ran twice on the surviving hosts, e.g. \(twice.prefix(3))")
        let lines = hosts.map { Self.stepCounts([$0]).count }
        #expect(lines.allSatisfy { $0 > 0 }, "each host ran steps: \(lines)")
        print("three hosts on PostgreSQL, 1000 instances: steps per host \(lines), host C killed after 1 s")
    }

    @Test func aFrozenHostLosesItsLockAndOverwritesNothing() async throws {
        let fixture = try await StoreFixture(.postgres)
        defer { Task { await fixture.destroy() } }
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.definition)
        let ids = try await HostProcessTests.seed(fixture, definitionJSON: Self.definition, count: 50)
        let frozen = try HostProcessTests.Serve(fixture, hostID: "host-a", definitions: definitions)
        defer { if frozen.process.isRunning { kill(frozen.process.processIdentifier, SIGKILL) } }
        // Host A holds every instance, saved after step 2 (version 4), waiting at its Receive.
        let deadline = ContinuousClock.now + .seconds(30)
        var held = 0
        while ContinuousClock.now < deadline, held < ids.count {
            let all = try await fixture.store.listInstances(InstanceQuery(limit: 100))
            held = all.filter { $0.lock?.hostID == "host-a" && $0.version >= 4 }.count
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(held == ids.count, "host A holds \(held) of \(ids.count)")
        kill(frozen.process.processIdentifier, SIGSTOP)
        try await Self.poke(fixture, ids)
        // Its lock lasts 2 s (renewal 1 s + grace); host B takes the instances after that.
        let other = try HostProcessTests.Serve(fixture, hostID: "host-b", definitions: definitions)
        let completed = try await HostProcessTests.waitUntilCompleted(fixture, ids, seconds: 60)
        kill(frozen.process.processIdentifier, SIGCONT)
        try await Task.sleep(for: .seconds(3))
        await frozen.stop()
        await other.stop()
        #expect(completed == ids.count)
        try await Self.expectEachCompletedOnce(fixture, ids)
        // Nothing host A did after waking reached the store: the instances are still completed
        // with host B's final state, and A ran no step of the second half.
        #expect(!frozen.lines.contains { $0.hasPrefix("s3 ") }, "the frozen host ran a step after losing its lock")
    }

    @Test func hostsReconnectAfterTheDatabaseRestarts() async throws {
        // A server of its own: restarting the shared one would cut the other tests' connections.
        let server = try PrivatePostgresServer()
        defer { server.stop() }
        let fixture = try await StoreFixture(.postgres, postgresURL: try server.createDatabase())
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.definition)
        let ids = try await HostProcessTests.seed(fixture, definitionJSON: Self.definition, count: 300)
        let hosts = try ["host-a", "host-b"].map {
            try HostProcessTests.Serve(fixture, hostID: $0, definitions: definitions)
        }
        defer { for host in hosts where host.process.isRunning { kill(host.process.processIdentifier, SIGKILL) } }
        try await Task.sleep(for: .seconds(1))
        try server.restart()
        // The fixture's own connections were cut too; its pool reconnects on the next call.
        var poked = false
        for _ in 0..<50 where !poked {
            do {
                try await Self.poke(fixture, ids)
                poked = true
            } catch {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        let completed = try await HostProcessTests.waitUntilCompleted(fixture, ids, seconds: 90)
        for host in hosts { await host.stop() }
        #expect(completed == ids.count, "\(completed) of \(ids.count) completed after the restart")
        try await Self.expectEachCompletedOnce(fixture, ids)
        // Each host's log says it lost the database and got it back.
        for host in hosts {
            let log = String(decoding: (try? Data(contentsOf: host.stderr)) ?? Data(), as: UTF8.self)
            #expect(log.contains("reconnected to the database"), "\(log.suffix(2000))")
            #expect(log.contains("listening for work notifications again"), "\(log.suffix(2000))")
        }
        await fixture.destroy()
    }
}
