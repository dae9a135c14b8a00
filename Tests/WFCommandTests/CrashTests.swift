import Foundation
import SteadfastCore
import SteadfastSQLite
import SteadfastStore
import Synchronization
import Testing

/// Crash test: three `wf serve` hosts on one store (SQLite, and PostgreSQL when the tests have a
/// server) and a few hundred instances with
/// Persist, Delay and Receive, while hosts and `wf send` senders are killed with SIGKILL at
/// random; every instance completes, and no step whose effect was saved durably runs again.
///
/// How it runs: every instance is created by `wf send start` (a `createsInstance` receive)
/// and later gets one `wf send poke` for its second Receive. Senders run three at a time; some
/// are killed with SIGKILL a few ms to 150 ms after they start (before, while or after they
/// store their message or run the instance) and are retried with the same `--client-id` until
/// one exits 0. Three hosts (time to unload 60 s, 0 and 2 s: instances stay loaded, unload at
/// every Delay, or in between) renew their locks every second, so a killed host's locks expire
/// after 2 s; every 2 to 4 s one of them, at random, is killed with SIGKILL and started again.
/// Each Receive is followed by a Delay, so a sender only stores, applies and saves: the steps
/// run on the hosts, whose logs (`--verbose --json`: one JSON line per event, with a
/// millisecond timestamp and the full instance id) are what the checks below read.
///
/// A step is `writeLine 'step K KEY'`, `n = n + 1`, `persist`. A host prints a step's line
/// before the save that records it (the persist point), and prints `saved (version V)` only
/// after that save has committed. What a crash may and may not cause:
///
/// - A step may run again when the process that ran it died (or lost its lock) before the
///   next save: its effect was never durable. These are the legitimate *re-runs* counted.
/// - A run of step K is *committed* when, in the same process's log, a `saved` line for that
///   instance follows its line before that instance's session ends there (`loaded` again, or
///   `stopped working on the instance`). Every save after the line carries step K's effect, so
///   once the save is printed, step K is durable.
/// - The checked invariants: (1) at most one run of each step is committed — two would mean
///   two hosts each saved the step's effect; (2) no run of step K is printed, by any host, at a
///   later millisecond than the first `saved` line that committed step K — after the durable
///   save, whoever loads the instance loads its effect and starts after it (a host still
///   running an older copy must have lost its lock, and the lease margin stops it from starting
///   new work; its save would fail). The timestamps come from one machine's clock, and each
///   line is written as the event happens, so the order is real; a re-run printed in the same
///   millisecond as the save cannot be ordered and is not counted (none is expected).
/// - Every instance ends `completed` with `n` equal to the number of steps (each step's
///   effect saved exactly once in the line of states that led to the end), every step's line
///   appears at least once, and its inbox holds exactly one `start` and one `poke`, both
///   applied: a killed sender's retry with the same client id stores nothing twice.
///
/// Assertions are never on timing: the only deadline is a generous one for completion.
///
/// The longer version is the same test, scaled by the environment (see the README, "Tests"):
/// `STEADFAST_CRASH_INSTANCES` (default 250) instances whose starts are spread over
/// `STEADFAST_CRASH_SECONDS` (default 0: as fast as the senders go), hosts killed until every
/// instance has completed; it prints its figures either way.
@Suite(.serialized) struct CrashTests {
    static let steps = 5

    static let definition = """
        { "name": "crash-steps", "version": "1",
          "variables": { "key": null, "n": 0, "note": null },
          "keys": ["key"],
          "body": { "sequence": [
            { "receive": { "operation": "start", "correlateOn": "key", "createsInstance": true } },
            { "delay": { "duration": "PT1S" } },
            \(step(1)), \(step(2)),
            { "delay": { "duration": "PT1S" } },
            \(step(3)),
            { "receive": { "operation": "poke", "correlateOn": "key", "assignTo": "note" } },
            { "delay": { "duration": "PT1S" } },
            \(step(4)),
            { "delay": { "duration": "PT0.5S" } },
            \(step(5)) ] } }
        """

    static func step(_ number: Int) -> String {
        #"{ "writeLine": { "text": "'step \#(number) ' + key" } }, { "assign": { "to": "n", "value": "n + 1" } }, { "persist": {} }"#
    }

    struct Settings {
        var instances = 250
        /// Starts are spread over this many seconds (0: as fast as the senders go).
        var startWindow = 0.0
        var senderLanes = 3
        /// The chance that a sender attempt is killed.
        var senderKillChance = 0.2
        var completionDeadline: Duration = .seconds(300)

        static func fromEnvironment() -> Settings {
            var settings = Settings()
            let environment = ProcessInfo.processInfo.environment
            if let text = environment["STEADFAST_CRASH_INSTANCES"], let count = Int(text), count > 0 {
                settings.instances = count
            }
            if let text = environment["STEADFAST_CRASH_SECONDS"], let seconds = Double(text), seconds >= 0 {
                settings.startWindow = seconds
                settings.completionDeadline = .seconds(300 + Int(seconds))
            }
            return settings
        }
    }

    @Test(arguments: StoreKind.available)
    func hostsAndSendersKilledAtRandomLoseNothingAndRepeatNoSavedStep(_ kind: StoreKind) async throws {
        let settings = Settings.fromEnvironment()
        let fixture = try await StoreFixture(kind)
        let definitions = try HostProcessTests.writeDefinition(fixture, Self.definition)
        let logs = fixture.folder.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let began = ContinuousClock.now
        let hosts = HostFleet(
            fixture: fixture, definitions: definitions, logs: logs, timesToUnload: ["60", "0", "2"])
        // Never leave a host behind, whatever the test finds (after stopAll this does nothing).
        defer { hosts.killAll() }
        try hosts.startAll()
        let counters = Counters()

        // Senders and the host killer run until every instance has completed (or the deadline).
        let finished = Flag()
        let killer = Task {
            while !finished.isSet {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 2000...4000)))
                guard !finished.isSet else { break }
                do { try await hosts.killAndRestart(Int.random(in: 0..<hosts.count)) } catch {
                    counters.note("restarting a host failed: \(error)")
                }
            }
        }
        let jobs = Self.jobs(count: settings.instances, lag: 30)
        let ticket = Flag()
        let windowStart = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.senderLanes {
                group.addTask {
                    while true {
                        guard let index = ticket.take(below: jobs.count) else { return }
                        let job = jobs[index]
                        if settings.startWindow > 0, job.operation == "start" {
                            let due =
                                windowStart
                                + .milliseconds(
                                    Int(settings.startWindow * 1000 * Double(job.key) / Double(settings.instances)))
                            try? await Task.sleep(until: due, clock: .continuous)
                        }
                        await Self.deliver(
                            job, fixture: fixture, definitions: definitions, logs: logs,
                            killChance: settings.senderKillChance, counters: counters)
                    }
                }
            }
        }
        let sent = ContinuousClock.now - began

        let deadline = began + settings.completionDeadline
        var completed = 0
        while ContinuousClock.now < deadline {
            completed = try await fixture.store.listInstances(
                InstanceQuery(statuses: [.completed], limit: settings.instances + 10)
            ).count
            if completed == settings.instances { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        finished.set()
        killer.cancel()
        await killer.value
        await hosts.stopAll()
        let duration = ContinuousClock.now - began

        // What became of every instance.
        let all = try await fixture.store.listInstances(InstanceQuery(limit: settings.instances * 2 + 10))
        var idsByKey: [String: UUID] = [:]
        for summary in all {
            let record = try await fixture.store.readInstance(summary.id)
            if let state = try? InstanceState.decode(record.state), case .string(let key)? = state.variables["key"] {
                idsByKey[key] = summary.id
            }
        }
        let logCheck = try LogCheck(logs: logs, idsByKey: idsByKey, steps: Self.steps)

        let report = """
            crash test on \(kind): \(settings.instances) instances (\(Self.steps) steps each, Persist after each, 3 Delays, \
            2 Receives), \(all.count) stored, \(completed) completed; \
            \(hosts.kills) host kills (SIGKILL) over \(hosts.count) hosts; \
            \(counters.value.senderKills) sender kills of \(counters.value.attempts) `wf send` attempts \
            (\(counters.value.failures) other failed attempts, retried); \
            \(logCheck.runs) step runs, \(logCheck.reruns) re-runs before a save (legitimate), \
            \(logCheck.violations.count) re-runs after a durable save; \
            senders done after \(Self.seconds(sent)), all done in \(Self.seconds(duration))
            """
        print(report)
        for note in counters.value.notes.prefix(20) { print("  note: \(note)") }

        #expect(all.count == settings.instances, "\(report)")
        let unfinished = try await Self.describeUnfinished(fixture, all)
        #expect(
            completed == settings.instances,
            "\(completed) of \(settings.instances) completed within \(settings.completionDeadline); \(report)\n\(unfinished)"
        )
        #expect(logCheck.violations.isEmpty, "\(logCheck.violations.prefix(20).joined(separator: "\n"))")
        #expect(logCheck.missing.isEmpty, "steps that never printed their line: \(logCheck.missing.prefix(20))")
        #expect(counters.value.gaveUp.isEmpty, "senders that never succeeded: \(counters.value.gaveUp.prefix(20))")

        for key in 0..<settings.instances {
            guard let id = idsByKey["k\(key)"] else {
                Issue.record("no instance has key k\(key)")
                continue
            }
            let record = try await fixture.store.readInstance(id)
            let state = try InstanceState.decode(record.state)
            #expect(record.status == .completed, "k\(key) (\(id)) is \(record.status)")
            #expect(
                state.variables["n"] == .number(Double(Self.steps)),
                "k\(key) (\(id)) saved \(String(describing: state.variables["n"])) step effects, not \(Self.steps)")
            let inbox = try await fixture.store.inbox(for: id, pendingOnly: false)
            for operation in ["start", "poke"] {
                let entries = inbox.filter { $0.command.operation == operation }
                #expect(
                    entries.count == 1 && entries.allSatisfy { $0.state == .applied },
                    "k\(key) (\(id)) has \(entries.count) '\(operation)' entries: \(entries.map { "\($0.id) \($0.state) \($0.reason ?? "")" })"
                )
            }
            #expect(inbox.count == 2, "k\(key) (\(id)) inbox: \(inbox.map { "\($0.command.kind) \($0.state)" })")
        }
        await fixture.destroy()
    }

    /// The log check itself, on made-up logs: a legitimate re-run (the first run's process died
    /// before its save) passes; a run after the save that committed the step, and a step saved
    /// by two runs, are both caught.
    @Test func theLogCheckTellsALegitimateRerunFromARerunAfterASave() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("crash-logs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let id = UUID()
        func line(_ message: String, _ second: Int) -> String {
            #"{"instance": "\#(id.uuidString)", "level": "info", "message": "\#(message)", "time": "2026-12-03T08:00:\#(String(format: "%02d", second)).000Z"}"#
        }
        func write(_ name: String, _ lines: [String]) throws {
            try Data(lines.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent(name))
        }
        // Host 1 prints step 1 and dies; host 2 loads, runs it again and saves: legitimate.
        try write("serve-h1-1.log", [line("loaded", 0), line("step 1 k0", 1)])
        try write("serve-h2-1.log", [line("loaded", 5), line("step 1 k0", 6), line("saved (version 3)", 7)])
        let fine = try LogCheck(logs: folder, idsByKey: ["k0": id], steps: 1)
        #expect(fine.violations.isEmpty && fine.missing.isEmpty && fine.runs == 2 && fine.reruns == 1)
        // Host 3 runs step 1 after host 2's save: caught (and, being saved, saved twice).
        try write("serve-h3-1.log", [line("loaded", 9), line("step 1 k0", 10), line("saved (version 4)", 11)])
        let wrong = try LogCheck(logs: folder, idsByKey: ["k0": id], steps: 1)
        #expect(wrong.violations.count == 2, "\(wrong.violations)")
        // A step nobody printed is reported missing.
        let missing = try LogCheck(logs: folder, idsByKey: ["k0": id], steps: 2)
        #expect(missing.missing == ["k0 step 2"])
    }

    // MARK: Senders

    struct Job: Sendable {
        var operation: String
        var key: Int
    }

    /// `start` for every key; each `poke` `lag` starts after its key's start.
    static func jobs(count: Int, lag: Int) -> [Job] {
        var jobs: [Job] = []
        for key in 0..<count {
            jobs.append(Job(operation: "start", key: key))
            if key >= lag { jobs.append(Job(operation: "poke", key: key - lag)) }
        }
        for key in max(0, count - lag)..<count { jobs.append(Job(operation: "poke", key: key)) }
        return jobs
    }

    struct Tally {
        var attempts = 0
        var senderKills = 0
        var failures = 0
        var gaveUp: [String] = []
        var notes: [String] = []
    }

    /// A flag, and a counter that hands out 0, 1, 2, … to many tasks.
    final class Flag: Sendable {
        private let state = Mutex((flag: false, next: 0))
        var isSet: Bool { state.withLock { $0.flag } }
        func set() { state.withLock { $0.flag = true } }
        func take(below limit: Int) -> Int? {
            state.withLock { state in
                guard state.next < limit else { return nil }
                state.next += 1
                return state.next - 1
            }
        }
    }

    final class Counters: Sendable {
        private let state = Mutex(Tally())
        var value: Tally { state.withLock { $0 } }
        func update(_ change: (inout Tally) -> Void) { state.withLock { change(&$0) } }
        func note(_ text: String) { update { $0.notes.append(text) } }
    }

    /// Sends one message until a `wf send` exits 0, killing some attempts with SIGKILL at a
    /// random moment; every attempt carries the same client id.
    static func deliver(
        _ job: Job, fixture: StoreFixture, definitions: URL, logs: URL, killChance: Double, counters: Counters
    ) async {
        let name = "\(job.operation)-\(job.key)"
        for attempt in 1...60 {
            counters.update { $0.attempts += 1 }
            let arguments = [
                "send", job.operation, "--body", #"{"key": "k\#(job.key)"}"#, "--client-id", name,
                "--definitions", definitions.path, "--store", fixture.url, "--verbose", "--lock-renewal", "1",
                "--timeout", "60",
            ]
            let child: WFChild
            do {
                child = try WFChild(
                    arguments, in: fixture.folder, stderr: logs.appendingPathComponent("send-\(name)-\(attempt).log"))
            } catch {
                counters.note("\(name): could not start wf: \(error)")
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            var killed = false
            if attempt <= 3, Double.random(in: 0..<1) < killChance {
                try? await Task.sleep(for: .milliseconds(Int.random(in: 5...150)))
                killed = child.kill(SIGKILL)
            }
            let status = await child.wait()
            if killed && child.killedBySignal {
                counters.update { $0.senderKills += 1 }
                continue
            }
            if status == 0 { return }
            // A poke before its instance exists is refused (key not found), and so on: retry.
            counters.update { $0.failures += 1 }
            if status == 2 { counters.note("\(name): exit 2: \(child.errorText.suffix(300))") }
            try? await Task.sleep(for: .milliseconds(300))
        }
        counters.update { $0.gaveUp.append(name) }
    }

    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    static func describeUnfinished(_ fixture: StoreFixture, _ all: [InstanceSummary]) async throws -> String {
        var text: [String] = []
        for summary in all where summary.status != .completed {
            let record = try await fixture.store.readInstance(summary.id)
            let state = try? InstanceState.decode(record.state)
            let inbox = try await fixture.store.inbox(for: summary.id, pendingOnly: false)
            text.append(
                "\(summary.id) \(summary.status) v\(summary.version) lock \(summary.lock?.hostID ?? "-") "
                    + "next timer \(summary.nextTimerAt.map { "\($0)" } ?? "-") "
                    + "vars \(state?.variables.description ?? "?") "
                    + "inbox \(inbox.map { "\($0.command.kind)/\($0.command.operation ?? "") \($0.state)" })")
            if text.count == 20 { break }
        }
        return text.joined(separator: "\n")
    }
}

// MARK: Processes

/// A `wf` child process with its stderr in a file (stdout discarded), which can be killed and
/// awaited.
final class WFChild: Sendable {
    let process: Process
    let stderr: URL

    init(_ arguments: [String], in folder: URL, stderr: URL) throws {
        let binary = try #require(WFBinary.url, "the wf binary was not found next to the test bundle")
        self.stderr = stderr
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let handle = try FileHandle(forWritingTo: stderr)
        process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["STEADFAST_STORE"] = nil
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? handle.close()
    }

    /// Sends `signal` if the process still runs; whether it was sent.
    @discardableResult
    func kill(_ signal: Int32) -> Bool {
        guard process.isRunning else { return false }
        return Foundation.kill(process.processIdentifier, signal) == 0
    }

    /// Waits for the process to exit; its exit status (or signal number).
    func wait() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus
    }

    var killedBySignal: Bool { !process.isRunning && process.terminationReason == .uncaughtSignal }

    var errorText: String { String(decoding: (try? Data(contentsOf: stderr)) ?? Data(), as: UTF8.self) }
}

/// `wf serve` hosts, one slot each, killed and restarted; each incarnation logs to its own file.
final class HostFleet: Sendable {
    private struct Slot {
        var child: WFChild?
        var incarnation = 0
    }
    private let slots: Mutex<[Slot]>
    private let killCount = Mutex(0)
    let fixture: StoreFixture
    let definitions: URL
    let logs: URL
    let timesToUnload: [String]

    init(fixture: StoreFixture, definitions: URL, logs: URL, timesToUnload: [String]) {
        self.fixture = fixture
        self.definitions = definitions
        self.logs = logs
        self.timesToUnload = timesToUnload
        slots = Mutex(Array(repeating: Slot(), count: timesToUnload.count))
    }

    var count: Int { timesToUnload.count }
    var kills: Int { killCount.withLock { $0 } }

    func startAll() throws {
        for index in 0..<count { try start(index) }
    }

    private func start(_ index: Int) throws {
        let incarnation = slots.withLock { slots -> Int in
            slots[index].incarnation += 1
            return slots[index].incarnation
        }
        let hostID = "h\(index + 1)-\(incarnation)"
        let child = try WFChild(
            [
                "serve", "--definitions", definitions.path, "--store", fixture.url, "--host-id", hostID,
                "--detection-period", "0.5", "--lock-renewal", "1", "--time-to-unload", timesToUnload[index],
                "--verbose", "--json",
            ], in: fixture.folder, stderr: logs.appendingPathComponent("serve-\(hostID).log"))
        slots.withLock { $0[index].child = child }
    }

    func killAndRestart(_ index: Int) async throws {
        if let child = slots.withLock({ $0[index].child }) {
            child.kill(SIGKILL)
            _ = await child.wait()
            killCount.withLock { $0 += 1 }
        }
        try start(index)
    }

    /// SIGKILL to every host still running, at once.
    func killAll() {
        for child in slots.withLock({ $0.compactMap(\.child) }) { child.kill(SIGKILL) }
    }

    /// SIGTERM to every host (they save and unlock what they hold), then waits for them.
    func stopAll() async {
        let children = slots.withLock { $0.compactMap(\.child) }
        for child in children { child.kill(SIGTERM) }
        for child in children {
            let deadline = ContinuousClock.now + .seconds(30)
            while child.process.isRunning && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            child.kill(SIGKILL)
            _ = await child.wait()
        }
    }
}

// MARK: Reading the logs

/// Reads every host's and sender's log and checks the invariants of ``CrashTests``.
struct LogCheck {
    /// Step lines printed, over all processes.
    var runs = 0
    /// Step lines beyond the first for their instance and step.
    var reruns = 0
    var violations: [String] = []
    /// "KEY step K" for steps no process printed.
    var missing: [String] = []

    private struct Event {
        var instance: UUID
        var message: String
        /// Milliseconds since 1970; nil in sender logs, which carry no times.
        var time: Int64?
    }

    private struct Run {
        var log: String
        var time: Int64?
    }

    init(logs: URL, idsByKey: [String: UUID], steps: Int) throws {
        let keysByID = Dictionary(idsByKey.map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var idsByPrefix: [String: UUID] = [:]
        for id in keysByID.keys { idsByPrefix[String(id.uuidString.prefix(8))] = id }
        var printed: [String: [Run]] = [:]  // "KEY K" → every run printed
        var committed: [String: [(save: Run, run: Run)]] = [:]  // "KEY K" → committed runs, with their save
        let files = try FileManager.default.contentsOfDirectory(at: logs, includingPropertiesForKeys: nil)
        for file in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let name = file.lastPathComponent
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            let events = text.split(separator: "\n").compactMap { line -> Event? in
                name.hasPrefix("serve-") ? Self.hostEvent(line) : Self.senderEvent(line, idsByPrefix)
            }
            // Runs printed since that instance's last save in this process, by step.
            var pending: [UUID: [(step: Int, run: Run)]] = [:]
            for event in events {
                let run = Run(log: name, time: event.time)
                if event.message.hasPrefix("step ") {
                    let parts = event.message.split(separator: " ")
                    guard parts.count == 3, let step = Int(parts[1]) else { continue }
                    let key = String(parts[2])
                    if idsByKey[key] != event.instance {
                        violations.append("\(name): '\(event.message)' printed for instance \(event.instance)")
                    }
                    runs += 1
                    printed["\(key) \(step)", default: []].append(run)
                    pending[event.instance, default: []].append((step, run))
                } else if event.message.hasPrefix("saved (version") {
                    for (step, stepRun) in pending[event.instance] ?? [] {
                        let key = keysByID[event.instance] ?? "?"
                        committed["\(key) \(step)", default: []].append((run, stepRun))
                    }
                    pending[event.instance] = nil
                } else if event.message == "loaded" || event.message.hasPrefix("stopped working on the instance") {
                    // A new session: what was printed and not saved is discarded.
                    pending[event.instance] = nil
                }
            }
        }
        for key in idsByKey.keys.sorted() {
            for step in 1...steps {
                let label = "\(key) \(step)"
                let all = printed[label] ?? []
                if all.isEmpty { missing.append("\(key) step \(step)") }
                reruns += max(0, all.count - 1)
                let saves = committed[label] ?? []
                if saves.count > 1 {
                    violations.append(
                        "\(key) step \(step) was saved by \(saves.count) runs: "
                            + saves.map {
                                "run in \($0.run.log) at \(Self.text($0.run.time)), saved at \(Self.text($0.save.time))"
                            }
                            .joined(separator: "; "))
                }
                guard let firstSave = saves.compactMap(\.save.time).min() else { continue }
                for late in all where (late.time ?? Int64.min) > firstSave {
                    violations.append(
                        "\(key) step \(step) ran again in \(late.log) at \(Self.text(late.time)), after its durable save at \(Self.text(firstSave)) (\(saves.map(\.save.log)))"
                    )
                }
            }
        }
    }

    static func text(_ time: Int64?) -> String {
        time.map { Instant(millisecondsSinceEpoch: $0).iso8601 } ?? "(no time)"
    }

    /// `{"instance": "…", "message": "…", "time": "…"}` from a `wf serve --json` log.
    private static func hostEvent(_ line: Substring) -> Event? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let instance = (object["instance"] as? String).flatMap(UUID.init(uuidString:)),
            let message = object["message"] as? String,
            let time = (object["time"] as? String).flatMap(Instant.init(iso8601:))
        else { return nil }
        return Event(instance: instance, message: message, time: time.millisecondsSinceEpoch)
    }

    /// `[1A2B3C4D] message` from a `wf send` log.
    private static func senderEvent(_ line: Substring, _ idsByPrefix: [String: UUID]) -> Event? {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]"),
            let id = idsByPrefix[String(line[line.index(after: line.startIndex)..<close])]
        else { return nil }
        return Event(instance: id, message: String(line[line.index(after: close)...].dropFirst()), time: nil)
    }
}
