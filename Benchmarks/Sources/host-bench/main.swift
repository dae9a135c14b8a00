import Foundation
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastPostgres
import SteadfastSQLite
import SteadfastStore
import Synchronization

// Host + SQLite store benchmarks: completed workflows per second for three steps with a Persist
// after each (synchronous=FULL), at 1 and at 64 concurrent instances; Delay lateness with
// 10,000 pending timers, kept in memory and unloaded to the store; how long a message and a
// control command sent through another store connection take to be applied to instances a
// running host holds. Prints one table. Delay lateness covers 10,000 timers kept in memory,
// unloaded to the store, and created by another process (this executable run again as
// `host-bench create-timers …`) while the measured host serves; targets: p99 under 50 ms,
// max under 200 ms.

/// Tracks finished instances and lines, and lets a caller wait for one instance to finish.
final class Tracker: Sendable {
    private struct State {
        var finished: Set<String> = []
        var waiters: [String: CheckedContinuation<Void, Never>] = [:]
        var lateness: [Double] = []
    }
    private let state = Mutex(State())

    func handle(_ event: HostEvent) {
        switch event {
        case .finished(let id, _):
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.finished.insert(id)
                return state.waiters.removeValue(forKey: id)
            }
            waiter?.resume()
        case .line(_, let text):
            // Delay benchmark lines are the due time: lateness is now minus due.
            if let due = Instant(iso8601: text) {
                let late = Date().timeIntervalSince1970 * 1000 - Double(due.millisecondsSinceEpoch)
                state.withLock { $0.lateness.append(late) }
            }
        default: break
        }
    }

    func waitForFinish(_ id: UUID) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.finished.contains(id.uuidString) { return true }
                state.waiters[id.uuidString] = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    var lateness: [Double] { state.withLock { $0.lateness } }
}

/// Hands out 0, 1, 2, … up to a limit, to many tasks.
final class Ticket: Sendable {
    private let next = Mutex(0)
    let limit: Int
    init(limit: Int) { self.limit = limit }

    func take() -> Int? {
        next.withLock { value in
            guard value < limit else { return nil }
            value += 1
            return value - 1
        }
    }
}

/// The PostgreSQL server to measure on (`STEADFAST_BENCH_POSTGRES`, a URL of a database there
/// from which new databases may be created); SQLite when unset.
let postgresServer: String? = ProcessInfo.processInfo.environment["STEADFAST_BENCH_POSTGRES"].flatMap {
    $0.isEmpty ? nil : $0
}

/// Opens the store at `url` the way `wf` does (full durability).
func openStore(_ url: String) async throws -> any InstanceStore {
    try await StoreConfiguration(url: url).open()
}

/// A new, empty store: a SQLite file in the temporary folder, or a new database on the
/// PostgreSQL server. Returns it and its URL.
func temporaryStore() async throws -> (any InstanceStore, String) {
    let url: String
    if let server = postgresServer {
        let name = "steadfast_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try PostgresDatabases.create(name, server: server)
        var components = URLComponents(string: server)!
        components.path = "/" + name
        url = components.string!
    } else {
        url =
            "sqlite:"
            + FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-bench-\(UUID()).db").path
    }
    return (try await openStore(url), url)
}

func removeStore(_ url: String) {
    if let server = postgresServer, let name = URLComponents(string: url)?.path.dropFirst() {
        try? PostgresDatabases.drop(String(name), server: server)
        return
    }
    let path = String(url.dropFirst("sqlite:".count))
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}

/// Group-commit counters of either store.
func commitStatistics(_ store: any InstanceStore) -> GroupCommitStatistics {
    (store as? SQLiteInstanceStore)?.groupCommitStatistics ?? (store as? PostgresInstanceStore)?.groupCommitStatistics
        ?? GroupCommitStatistics()
}

let threeSteps = try WorkflowDefinition(name: "three-steps", version: "1", variables: ["n": 0]) {
    Assign("n", "n + 1")
    Persist()
    Assign("n", "n + 1")
    Persist()
    Assign("n", "n + 1")
    Persist()
}

/// Runs `total` three-step workflows to completion, `concurrency` at a time; returns workflows/s
/// and the store's commits per workflow.
func throughput(concurrency: Int, total: Int, tracking: TrackingProfile = .off) async throws -> (
    perSecond: Double, transactions: Double
) {
    let (store, path) = try await temporaryStore()
    defer { removeStore(path) }
    let tracker = Tracker()
    var options = HostOptions(hostID: "bench", maxConcurrentInstances: 10_000)
    options.tracking = tracking
    let host = WorkflowHost(store: store, catalog: DefinitionCatalog([threeSteps]), options: options) {
        tracker.handle($0)
    }
    try await host.start(background: false)
    let before = commitStatistics(store)
    let tickets = Ticket(limit: total)
    let clock = ContinuousClock()
    let began = clock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                while tickets.take() != nil {
                    let id = try await host.startInstance(definitionName: "three-steps")
                    await tracker.waitForFinish(id)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = clock.now - began
    let after = commitStatistics(store)
    await host.stop()
    await store.close()
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return (Double(total) / seconds, Double(after.transactions - before.transactions) / Double(total))
}

/// Where the timers of a lateness run come from.
enum TimerSource: String {
    /// This host starts them; they wait in memory (the default idle policy).
    case inMemory
    /// This host starts them; they are saved and unloaded at the Delay (timeToUnload 0) and come
    /// back through runnable-instance detection.
    case unloaded
    /// Another process (this executable, re-run as `host-bench create-timers`) starts them
    /// through its own store connection while this host serves; this host learns of them only
    /// from the store (commits noticed by `data_version`, then runnable-instance detection).
    case otherProcess
}

/// The Delay workflow of the lateness runs: its one line is its due time.
let timerDefinition = try WorkflowDefinition(name: "timer", version: "1", variables: ["dueAt": nil]) {
    Delay(until: "dueAt")
    WriteLine("dueAt")
}

/// Starts `count` timer instances through `host`, 64 at a time, due spread over 10 s from `first`.
func startTimers(_ host: WorkflowHost, count: Int, first: Instant) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        let tickets = Ticket(limit: count)
        for _ in 0..<64 {
            group.addTask {
                while let index = tickets.take() {
                    let due = first.adding(milliseconds: Int64(index) * 10_000 / Int64(count))
                    try await host.startInstance(definitionName: "timer", input: ["dueAt": .string(due.iso8601)])
                }
            }
        }
        try await group.waitForAll()
    }
}

/// `host-bench create-timers PATH COUNT FIRST_MS`: the other process of `TimerSource.otherProcess`.
/// Its host only starts instances (each saved and unloaded at its Delay) and stops before the
/// first is due, so it never fires one.
func createTimersAsAnotherProcess(arguments: [String]) async throws {
    guard arguments.count == 3, let count = Int(arguments[1]), let first = Int64(arguments[2]) else {
        fatalError("usage: host-bench create-timers PATH COUNT FIRST_MS")
    }
    let store = try await openStore(arguments[0])
    let host = WorkflowHost(
        store: store, catalog: DefinitionCatalog([timerDefinition]),
        options: HostOptions(
            hostID: "creator", timeToUnload: .zero, runnableInstancesDetectionPeriod: .seconds(3600),
            maxConcurrentInstances: count + 10))
    try await host.start(background: false)
    try await startTimers(host, count: count, first: Instant(millisecondsSinceEpoch: first))
    await host.stop()
    await store.close()
}

/// Runs this executable again with `arguments`; its exit status.
func runSelf(_ arguments: [String]) async throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    try process.run()
    while process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
    return process.terminationStatus
}

/// Starts `count` instances whose Delay is due spread over a window, and measures how late each
/// fires on a host of this process (see ``TimerSource`` for where they come from).
func delayLateness(count: Int, source: TimerSource) async throws -> (
    p50: Double, p99: Double, max: Double, fired: Int
) {
    let (store, path) = try await temporaryStore()
    defer { removeStore(path) }
    let tracker = Tracker()
    let options = HostOptions(
        hostID: "bench", timeToUnload: source == .inMemory ? .seconds(600) : .zero,
        maxConcurrentInstances: count + 10)
    let host = WorkflowHost(store: store, catalog: DefinitionCatalog([timerDefinition]), options: options) {
        tracker.handle($0)
    }
    try await host.start()
    // Due times spread over 10 s, starting 20 s from now (creating the instances takes a while).
    let first = Instant(secondsSinceEpoch: Date().timeIntervalSince1970).adding(milliseconds: 20_000)
    if source == .otherProcess {
        let status = try await runSelf(["create-timers", path, "\(count)", "\(first.millisecondsSinceEpoch)"])
        precondition(status == 0, "the timer-creating process failed (exit \(status))")
    } else {
        try await startTimers(host, count: count, first: first)
    }
    let created = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
    precondition(created < first, "creating \(count) instances took longer than 20 s; lateness would be meaningless")
    let deadline = ContinuousClock.now + .seconds(60)
    while tracker.lateness.count < count && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(100))
    }
    await host.stop()
    await store.close()
    let sorted = tracker.lateness.sorted()
    func percentile(_ p: Double) -> Double {
        sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
    return (percentile(0.5), percentile(0.99), sorted.last ?? .nan, sorted.count)
}

/// A host holds `count` instances (they would stay loaded for 10 minutes); an operator with a
/// store connection of its own sends each a message, then a terminate, one at a time, each
/// waiting until it is applied. Returns the latencies in ms, sorted.
func controlLatency(count: Int) async throws -> (message: [Double], terminate: [Double]) {
    let (store, path) = try await temporaryStore()
    defer { removeStore(path) }
    let ticket = try WorkflowDefinition(name: "ticket", version: "1", variables: ["id": nil, "n": 0], keys: ["id"]) {
        Receive("open", correlateOn: "id", createsInstance: true)
        While("n < 1000") {
            Receive("bump", correlateOn: "id")
            Assign("n", "n + 1")
        }
    }
    let host = WorkflowHost(
        store: store, catalog: DefinitionCatalog([ticket]),
        options: HostOptions(hostID: "holder", timeToUnload: .seconds(600), maxConcurrentInstances: count + 10))
    try await host.start()
    var ids: [UUID] = []
    for index in 0..<count {
        ids.append(try await host.send(operation: "open", body: ["id": .number(Double(index))]).entry.instanceID)
    }
    let operatorStore = try await openStore(path)
    let service = WorkflowService(store: operatorStore)
    let clock = ContinuousClock()
    func timed(_ body: () async throws -> Void) async throws -> Double {
        let began = clock.now
        try await body()
        let elapsed = clock.now - began
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
    var message: [Double] = []
    var terminate: [Double] = []
    for (index, id) in ids.enumerated() {
        message.append(
            try await timed {
                let outcome = try await service.resume(
                    id, operation: "bump", body: ["id": .number(Double(index))], through: nil, wait: .applied)
                precondition(outcome.entry.state == .applied)
            })
    }
    for id in ids {
        terminate.append(
            try await timed {
                _ = try await service.control(id, .terminate(reason: "bench"), wait: .applied)
            })
    }
    await host.stop()
    await operatorStore.close()
    await store.close()
    return (message.sorted(), terminate.sorted())
}

// MARK: Many hosts (PostgreSQL)

func milliseconds(_ date: Date = Date()) -> Int64 { Int64(date.timeIntervalSince1970 * 1000) }

/// `host-bench run-host URL CONCURRENCY TOTAL START_MS`: one of several host processes of a
/// throughput run. Opens its store and host, waits for the common start, runs its share, and
/// prints the time it finished (ms since 1970).
func runHostProcess(arguments: [String]) async throws {
    guard arguments.count == 4, let concurrency = Int(arguments[1]), let total = Int(arguments[2]),
        let start = Int64(arguments[3])
    else { fatalError("usage: host-bench run-host URL CONCURRENCY TOTAL START_MS") }
    let store = try await openStore(arguments[0])
    let tracker = Tracker()
    let host = WorkflowHost(
        store: store, catalog: DefinitionCatalog([threeSteps]),
        options: HostOptions(hostID: "bench-\(getpid())", maxConcurrentInstances: 10_000)
    ) { tracker.handle($0) }
    try await host.start(background: false)
    try await Task.sleep(for: .milliseconds(max(0, start - milliseconds())))
    let tickets = Ticket(limit: total)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                while tickets.take() != nil {
                    await tracker.waitForFinish(try await host.startInstance(definitionName: "three-steps"))
                }
            }
        }
        try await group.waitForAll()
    }
    FileHandle.standardOutput.write(Data("\(milliseconds())\n".utf8))
    await host.stop()
    await store.close()
}

/// Runs this executable again with `arguments`, its stdout in a pipe.
func startSelf(_ arguments: [String]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    process.arguments = arguments
    process.standardInput = FileHandle.nullDevice
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    return (process, pipe)
}

/// Three-Persist workflows per second with `hosts` host processes on one database, each
/// starting its share of `total`, `concurrency` in flight in all.
func hostsThroughput(hosts: Int, concurrency: Int, total: Int) async throws -> Double {
    let (store, url) = try await temporaryStore()
    await store.close()
    defer { removeStore(url) }
    let start = milliseconds() + 3000
    let children = try (0..<hosts).map { _ in
        try startSelf(["run-host", url, "\(concurrency / hosts)", "\(total / hosts)", "\(start)"])
    }
    var finished: Int64 = 0
    for (process, pipe) in children {
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        guard process.terminationStatus == 0, let end = Int64(output.trimmingCharacters(in: .whitespacesAndNewlines))
        else { fatalError("a host process failed (exit \(process.terminationStatus)): \(output)") }
        finished = max(finished, end)
    }
    return Double(total / hosts * hosts) / (Double(finished - start) / 1000)
}

/// The failover runs' workflow: created by `open`, waits for `go`, then ends.
let waiter = try WorkflowDefinition(name: "waiter", version: "1", variables: ["id": nil], keys: ["id"]) {
    Receive("open", correlateOn: "id", createsInstance: true)
    Receive("go", correlateOn: "id")
}

/// `host-bench hold URL COUNT`: a host (lock renewal 1 s, so its lock lasts 2 s) that starts
/// and holds COUNT waiting instances, prints "ready", and runs until it is killed.
func holdProcess(arguments: [String]) async throws {
    guard arguments.count == 2, let count = Int(arguments[1]) else { fatalError("usage: host-bench hold URL COUNT") }
    let store = try await openStore(arguments[0])
    var options = HostOptions(
        hostID: "doomed", timeToUnload: .seconds(600), hostLockRenewalPeriod: .seconds(1),
        maxConcurrentInstances: count + 10)
    options.hostLockGrace = .seconds(1)
    let host = WorkflowHost(store: store, catalog: DefinitionCatalog([waiter]), options: options)
    try await host.start()
    for index in 0..<count { _ = try await host.send(operation: "open", body: ["id": .number(Double(index))]) }
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    try await Task.sleep(for: .seconds(3600))
}

/// A host holding `count` instances is killed with SIGKILL while they wait for a message that
/// is then sent to each; another host takes them once the dead host's lock (2 s) expires (its
/// detection wakes for that moment; its period, 30 s, plays no part). Returns the ms from the kill to the first and the last instance
/// finished elsewhere.
func failover(count: Int) async throws -> (first: Double, last: Double) {
    let (store, url) = try await temporaryStore()
    defer { removeStore(url) }
    let tracker = Tracker()
    let survivor = WorkflowHost(
        store: store, catalog: DefinitionCatalog([waiter]),
        options: HostOptions(hostID: "survivor", runnableInstancesDetectionPeriod: .seconds(30)),
        onEvent: { tracker.handle($0) })
    try await survivor.start()
    let (doomed, pipe) = try startSelf(["hold", url, "\(count)"])
    let ready = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self)
    precondition(ready.hasPrefix("ready"), "the holding host did not start: \(ready)")
    let ids = try await store.listInstances(InstanceQuery(limit: count + 10)).map(\.id)
    kill(doomed.processIdentifier, SIGKILL)
    let killed = ContinuousClock.now
    for index in 0..<count {
        _ = try await store.enqueue(
            .message(operation: "go", body: Data(#"{"id": \#(index)}"#.utf8)),
            forKey: InstanceKey(name: "id", value: .number(Double(index))),
            clientID: nil)
    }
    var times: [Double] = []
    await withTaskGroup(of: Double.self) { group in
        for id in ids {
            group.addTask {
                await tracker.waitForFinish(id)
                let elapsed = ContinuousClock.now - killed
                return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            }
        }
        for await time in group { times.append(time) }
    }
    await survivor.stop()
    await store.close()
    return (times.min() ?? .nan, times.max() ?? .nan)
}

if CommandLine.arguments.dropFirst().first == "run-host" {
    try await runHostProcess(arguments: Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}
if CommandLine.arguments.dropFirst().first == "hold" {
    try await holdProcess(arguments: Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

if CommandLine.arguments.dropFirst().first == "create-timers" {
    try await createTimersAsAnotherProcess(arguments: Array(CommandLine.arguments.dropFirst(2)))
    exit(0)
}

// Sections to run (all when none are named): throughput, tracking, timers, control; with
// STEADFAST_BENCH_POSTGRES also hosts (several host processes) and failover.
let sections = Set(CommandLine.arguments.dropFirst())
func runs(_ section: String) -> Bool {
    sections.isEmpty ? (postgresServer != nil || !["hosts", "failover"].contains(section)) : sections.contains(section)
}

var rows: [(String, String, String)] = []
if runs("hosts") {
    precondition(
        postgresServer != nil, "the hosts section needs STEADFAST_BENCH_POSTGRES (several hosts share PostgreSQL)")
    for hosts in [1, 2, 4] {
        for concurrency in [1, 64, 256] where !(concurrency == 1 && hosts > 1) {
            let rate = try await hostsThroughput(
                hosts: hosts, concurrency: concurrency, total: concurrency == 1 ? 300 : 6000)
            rows.append(
                (
                    "3 steps + Persist each, \(hosts) host process(es), \(concurrency) concurrent",
                    String(format: "%.0f", rate), "workflows/s"
                ))
        }
    }
}
if runs("failover") {
    precondition(postgresServer != nil, "the failover section needs STEADFAST_BENCH_POSTGRES")
    let times = try await failover(count: 100)
    rows.append(
        ("failover (lock 2 s, detection period 30 s): kill → first resumed", String(format: "%.0f", times.first), "ms"))
    rows.append(("  kill → all 100 resumed", String(format: "%.0f", times.last), "ms"))
}
if runs("throughput") {
    let single = try await throughput(concurrency: 1, total: 300)
    rows.append(("3 steps + Persist each, 1 at a time", String(format: "%.0f", single.perSecond), "workflows/s"))
    rows.append(("  store commits per workflow", String(format: "%.2f", single.transactions), "transactions"))
    let parallel = try await throughput(concurrency: 64, total: 8000)
    rows.append(("3 steps + Persist each, 64 concurrent", String(format: "%.0f", parallel.perSecond), "workflows/s"))
    rows.append(("  store commits per workflow", String(format: "%.2f", parallel.transactions), "transactions"))
}
if runs("tracking") {
    // The cost of the history: the same run with each tracking profile, alternated over three
    // rounds (the machine's noise moves all of them alike within a round).
    var rates: [TrackingProfile: [Double]] = [:]
    _ = try await throughput(concurrency: 64, total: 4000, tracking: .off)  // warm-up, not counted
    for _ in 0..<3 {
        for profile in [TrackingProfile.off, .instance, .full] {
            rates[profile, default: []].append(
                try await throughput(concurrency: 64, total: 4000, tracking: profile).perSecond)
        }
    }
    let baseline = (rates[.off] ?? []).reduce(0, +) / 3
    for profile in [TrackingProfile.off, .instance, .full] {
        let values = rates[profile] ?? []
        let mean = values.reduce(0, +) / Double(max(1, values.count))
        rows.append(
            (
                "3 steps + Persist each, 64 concurrent, tracking \(profile.rawValue) (3 rounds: "
                    + values.map { String(format: "%.0f", $0) }.joined(separator: ", ") + ")",
                String(format: "%.0f (%+.0f %%)", mean, (mean / baseline - 1) * 100), "workflows/s"
            ))
    }
}
for source in [TimerSource.inMemory, .unloaded, .otherProcess] where runs("timers") {
    let late = try await delayLateness(count: 10_000, source: source)
    let label =
        switch source {
        case .inMemory: "in memory"
        case .unloaded: "unloaded, via detection"
        case .otherProcess: "created by another process"
        }
    rows.append(("Delay lateness, 10,000 timers, \(label): p50", String(format: "%.1f", late.p50), "ms"))
    rows.append(("  p99", String(format: "%.1f", late.p99), "ms"))
    rows.append(("  max (timers fired: \(late.fired))", String(format: "%.1f", late.max), "ms"))
}

let latency = runs("control") ? try await controlLatency(count: 200) : (message: [], terminate: [])
for (label, values) in [("message", latency.message), ("terminate", latency.terminate)] where !values.isEmpty {
    func percentile(_ p: Double) -> Double { values[min(values.count - 1, Int(Double(values.count) * p))] }
    rows.append(("\(label) to a held instance, applied: p50", String(format: "%.1f", percentile(0.5)), "ms"))
    rows.append(("  p99 (\(values.count) sent)", String(format: "%.1f", percentile(0.99)), "ms"))
}

let widths = (rows.map(\.0.count).max() ?? 0, rows.map(\.1.count).max() ?? 0)
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let space = String(repeating: " ", count: max(0, width - text.count))
    return right ? space + text : text + space
}
print(
    "Steadfast host benchmark: "
        + (postgresServer == nil ? "SQLite, WAL, synchronous=FULL" : "PostgreSQL, synchronous_commit=on")
        + " (\(ProcessInfo.processInfo.activeProcessorCount) cores, release build)"
)
if runs("timers") { print("Delay lateness targets: p99 under 50 ms, max under 200 ms.") }
print("\(pad("benchmark", widths.0))  \(pad("value", widths.1, right: true))  unit")
print(String(repeating: "-", count: widths.0 + widths.1 + 16))
for (name, value, unit) in rows { print("\(pad(name, widths.0))  \(pad(value, widths.1, right: true))  \(unit)") }
