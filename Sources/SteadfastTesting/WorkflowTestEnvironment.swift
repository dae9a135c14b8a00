import Foundation
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastStore
import Synchronization

/// A place to test workflow definitions without waiting for their timers: a real host over a
/// private SQLite store (in memory, or a temporary file), both on a virtual clock that only
/// ``advance(by:)`` moves. A workflow that waits 30 days between reminders is tested in
/// milliseconds, through the same store, host and interpreter as in production.
///
/// Every call that makes work (``start(_:input:)``, ``send(_:_:)``, ``advance(by:)``) runs
/// the instances until nothing more can happen at the virtual time (``runUntilIdle()``) before
/// it returns, so a test reads the outcome straight after:
///
/// ```swift
/// let env = try await WorkflowTestEnvironment(definitionFiles: ["Samples/order-approval.json"])
/// let id = try await env.send("submit", ["orderId": 7])
/// try await env.advance(by: .seconds(72 * 3600))
/// try await env.expect(id, status: .completed, variables: ["status": "expired"])
/// #expect(env.lines(of: id) == ["order 7 is expired"])
/// await env.close()
/// ```
///
/// Instances are saved and unloaded at every idle point, so each step also goes through the
/// store, as after a host restart. Finished instances are kept (the store's completion action
/// is `deleteNothing`) so they can be inspected, and the host records the `full` history.
public actor WorkflowTestEnvironment {
    /// Where the environment keeps its instances.
    public enum StoreKind: Sendable {
        /// A private in-memory SQLite database (the default).
        case memory
        /// A SQLite file in a temporary folder, removed by ``close()``.
        case temporaryFile
        /// The store at this URL (an empty PostgreSQL database, say), used as it is.
        case url(String)
    }

    /// The virtual clock of the store and the host.
    public nonisolated let clock: ManualClock
    public nonisolated let store: any InstanceStore
    /// The operations `wf` and the HTTP API use, on this environment's store and clock.
    public nonisolated let service: WorkflowService
    public nonisolated let catalog: DefinitionCatalog
    private let options: HostOptions
    private let events = EventLog()
    private var session: HostSession
    private let file: String?
    /// How long, in real time, ``runUntilIdle()`` waits for a loaded instance to reach an idle
    /// point (an async activity that never returns would otherwise hang the test).
    public var realTimeLimit: Duration = .seconds(30)

    /// An environment hosting `definitions`, its clock at `start`.
    public init(
        definitions: [WorkflowDefinition], store kind: StoreKind = .memory,
        start: Date = Date(timeIntervalSince1970: 1_800_000_000), tracking: TrackingProfile = .full
    ) async throws {
        clock = ManualClock(start: start)
        let url: String
        switch kind {
        case .memory:
            (url, file) = ("sqlite::memory:", nil)
        case .temporaryFile:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-test-\(UUID()).db").path
            (url, file) = ("sqlite:\(path)", path)
        case .url(let given):
            (url, file) = (given, nil)
        }
        store = try await StoreConfiguration(url: url, durability: .normal, clock: clock.storeClock).open()
        try await store.setCompletionAction(.deleteNothing)
        catalog = DefinitionCatalog(definitions)
        service = WorkflowService(store: store, clock: clock.storeClock)
        // Everything happens when the test says so: no background loops, an instance unloads
        // as soon as it is idle, and timers fire only once due on the virtual clock. The lock
        // lasts ten virtual years (renewed by a restart, see `advance`).
        var options = HostOptions(
            hostID: "test-host", timeToUnload: .zero, hostLockRenewalPeriod: .seconds(5 * 365 * 86_400),
            hostLockGrace: .seconds(5 * 365 * 86_400))
        options.timerLookahead = .zero
        options.tracking = tracking
        self.options = options
        session = Self.session(store, catalog, options, clock, events)
        try await session.host.start(background: false)
    }

    /// An environment hosting the definitions in `definitionFiles` (files, or folders of
    /// `*.json` files); a file that does not load is an error naming its problems.
    public init(
        definitionFiles: [String], registry: ActivityRegistry = ActivityRegistry(), store kind: StoreKind = .memory,
        start: Date = Date(timeIntervalSince1970: 1_800_000_000), tracking: TrackingProfile = .full
    ) async throws {
        let source = try DefinitionSource(paths: definitionFiles, registry: registry)
        guard source.problems.isEmpty else {
            throw ApplicationError(.invalidDefinition, source.problems.joined(separator: "\n"))
        }
        try await self.init(definitions: source.catalog.definitions, store: kind, start: start, tracking: tracking)
    }

    private static func session(
        _ store: any InstanceStore, _ catalog: DefinitionCatalog, _ options: HostOptions, _ clock: ManualClock,
        _ events: EventLog
    ) -> HostSession {
        HostSession(store: store, catalog: catalog, options: options, clock: clock.storeClock) { events.record($0) }
    }

    /// Stops the host and closes the store (removing its file).
    public func close() async {
        await session.host.stop()
        await store.close()
        if let file {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }
        }
    }

    /// The virtual time now.
    public nonisolated var now: Date { clock.now }

    // MARK: Making work

    /// Starts an instance of the newest version of `definition` with `input`, and runs until idle.
    @discardableResult
    public func start(_ definition: String, input: [String: JSONValue] = [:]) async throws -> UUID {
        let id = try await service.start(definition, input: input, through: session)
        try await runUntilIdle()
        return id
    }

    /// Sends a message, routed by its correlation key like `wf send` (a receive that creates
    /// instances starts one), and runs until idle; returns the instance it went to.
    @discardableResult
    public func send(_ operation: String, _ body: JSONValue = [:]) async throws -> UUID {
        let delivery = try await session.host.send(operation: operation, body: body)
        try await runUntilIdle()
        return delivery.entry.instanceID
    }

    /// Sends a message to the instance `id` (like `wf resume-bookmark`) and runs until idle.
    public func send(_ operation: String, _ body: JSONValue = [:], to id: UUID) async throws {
        _ = try await service.resume(id, operation: operation, body: body, through: session, wait: .accepted)
        try await runUntilIdle()
    }

    /// Stores a control command for the instance (suspend, unsuspend, terminate, cancel) and
    /// runs until idle.
    public func control(_ id: UUID, _ command: InboxEntry.Command) async throws {
        _ = try await service.control(id, command, wait: .accepted)
        try await runUntilIdle()
    }

    /// Moves the virtual clock on by `duration`, firing every timer that falls due on the way
    /// at its due time, in order (a reminder every 2 hours fires 12 times in a day), and runs
    /// until idle.
    public func advance(by duration: Duration) async throws {
        let (seconds, attoseconds) = duration.components
        try await advance(to: clock.now.addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18))
    }

    /// Moves the virtual clock on to `date`, as ``advance(by:)`` does.
    public func advance(to date: Date) async throws {
        try await runUntilIdle()
        // Every timer is in the store between steps: an idle instance is unloaded at once, and
        // no timer waits inside a no-persist zone (definitions refuse a Delay there).
        let hosted = Set(catalog.definitions.map(\.identity))
        while let due = try await store.nextTimerDueTime(definitions: hosted), due <= date {
            try await moveClock(to: due)
            try await runUntilIdle()
        }
        try await moveClock(to: date)
        try await runUntilIdle()
    }

    /// Moves the clock; a host whose lock would expire by then is replaced by a new one
    /// (nothing is loaded between steps, so nothing is lost), as a host restart would.
    private func moveClock(to date: Date) async throws {
        let margin = options.hostLockGrace / 2
        if let expiry = session.host.leaseExpiresAt,
            Duration.seconds(expiry.timeIntervalSince(date)) < margin
        {
            await session.host.stop()
            session = Self.session(store, catalog, options, clock, events)
            clock.set(to: date)
            try await session.host.start(background: false)
        } else {
            clock.set(to: date)
        }
    }

    /// Runs the instances until nothing more happens at the current virtual time: messages and
    /// commands waiting in inboxes are applied, due timers fire, and every loaded instance
    /// reaches an idle point and is saved and unloaded (an async custom activity runs to its
    /// end first). Throws if an instance is still busy after ``realTimeLimit`` of real time.
    public func runUntilIdle() async throws {
        for _ in 0..<10_000 {
            let before = events.count
            try await session.host.pollInbox()
            _ = try await session.host.detectRunnableInstances()
            let deadline = ContinuousClock.now + realTimeLimit
            while await session.host.loadedCount > 0 {
                guard ContinuousClock.now < deadline else {
                    throw ApplicationError(
                        .timeout,
                        "an instance was still running after \(realTimeLimit) of real time (an async custom activity "
                            + "that never returns?)")
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            if events.count == before { return }
        }
        throw ApplicationError(
            .timeout, "the instances kept working without ever becoming idle (10,000 rounds at \(clock.now))")
    }

    // MARK: Reading

    /// The instance as the store has it now.
    public func instance(_ id: UUID) async throws -> InstanceView { try await service.show(id) }

    public func status(of id: UUID) async throws -> InstanceStatus { try await instance(id).status }

    /// The instance's variables now.
    public func variables(of id: UUID) async throws -> [String: JSONValue] { try await instance(id).variables ?? [:] }

    /// The output of a completed instance (its variables at the end); nil until it completed.
    public func output(of id: UUID) async throws -> [String: JSONValue]? {
        let view = try await instance(id)
        return view.status == .completed ? view.variables : nil
    }

    /// What the instance's writeLine activities printed, in order.
    public nonisolated func lines(of id: UUID) -> [String] { events.lines(of: id) }

    /// The instance's history, oldest first.
    public func history(of id: UUID) async throws -> [HistoryEntryView] { try await service.history(id) }

    /// The operations the instance waits for now.
    public func waitingFor(_ id: UUID) async throws -> [String] { try await instance(id).bookmarks.map(\.operation) }

    // MARK: Expectations

    /// Throws a ``WorkflowExpectationFailure`` describing the instance unless it has `status`,
    /// each of `variables` has the value given, it waits for exactly `waitingFor` and has
    /// written exactly `lines` (each when given).
    public func expect(
        _ id: UUID, status: InstanceStatus, variables: [String: JSONValue] = [:], waitingFor: [String]? = nil,
        lines: [String]? = nil
    ) async throws {
        let view = try await instance(id)
        var problems: [String] = []
        if view.status != status { problems.append("its status is \(view.status.rawValue), not \(status.rawValue)") }
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            let actual = view.variables?[name]
            if actual != value {
                problems.append("'\(name)' is \(actual?.jsonText ?? "not set"), not \(value.jsonText)")
            }
        }
        let waiting = view.bookmarks.map(\.operation)
        if let waitingFor, waiting.sorted() != waitingFor.sorted() {
            problems.append("it waits for \(waiting), not \(waitingFor)")
        }
        if let lines, self.lines(of: id) != lines { problems.append("it wrote \(self.lines(of: id)), not \(lines)") }
        if let fault = view.fault, status != .faulted { problems.append("it faulted: \(fault.message)") }
        guard problems.isEmpty else { throw WorkflowExpectationFailure(instance: id, problems: problems) }
    }

    /// Throws a ``WorkflowExpectationFailure`` unless the instance's history has records of
    /// `kinds` in this order (other records may come between them).
    public func expectHistory(_ id: UUID, contains kinds: [String]) async throws {
        let recorded = try await history(of: id).map(\.kind)
        var remaining = kinds[...]
        var matched = 0  // records up to the last expected kind found
        for (index, kind) in recorded.enumerated() where kind == remaining.first {
            remaining.removeFirst()
            matched = index + 1
        }
        guard let missing = remaining.first else { return }
        let after = recorded.dropFirst(matched)
        let shown = after.prefix(12).joined(separator: ", ") + (after.count > 12 ? ", … (\(after.count) in all)" : "")
        throw WorkflowExpectationFailure(
            instance: id,
            problems: [
                "its history has no '\(missing)' where expected"
                    + (after.isEmpty
                        ? " (nothing came after the last one found)" : "; after the last one found: \(shown)")
            ])
    }
}

/// An expectation of ``WorkflowTestEnvironment`` that did not hold: which instance, and each
/// difference.
public struct WorkflowExpectationFailure: Error, CustomStringConvertible {
    public var instance: UUID
    public var problems: [String]

    public var description: String {
        "instance \(instance.lowercasedText): " + problems.joined(separator: "; ")
    }
}

/// The host's events the environment keeps: a count (to tell when a round did nothing) and
/// the lines each instance wrote.
private final class EventLog: Sendable {
    private let state = Mutex<(count: Int, lines: [UUID: [String]])>((0, [:]))

    func record(_ event: HostEvent) {
        state.withLock {
            $0.count += 1
            if case .line(let id, let text) = event, let uuid = UUID(uuidString: id) {
                $0.lines[uuid, default: []].append(text)
            }
        }
    }

    var count: Int { state.withLock { $0.count } }
    func lines(of id: UUID) -> [String] { state.withLock { $0.lines[id] ?? [] } }
}
