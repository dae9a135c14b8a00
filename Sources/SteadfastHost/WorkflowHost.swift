import Foundation
import Logging
import SteadfastCore
import SteadfastStore
import Synchronization

/// Hosts workflow instances over an instance store: registers as a lock owner and renews it,
/// loads runnable instances (due timers, waiting messages), routes messages by correlation key,
/// applies the idle policy, and on shutdown saves and unlocks what it holds.
public actor WorkflowHost {
    public nonisolated let store: any InstanceStore
    public nonisolated let catalog: DefinitionCatalog
    public nonisolated let options: HostOptions
    private let onEvent: @Sendable (HostEvent) -> Void
    /// Where the host logs its events, with its id (`host`) in the metadata.
    nonisolated let logger: Logger
    private var owner: LockOwner? {
        didSet { leaseExpiry.withLock { $0 = owner?.lockExpiresAt } }
    }
    /// The owner's lock expiry, readable without a hop onto this actor (every event an
    /// instance handles checks it).
    private nonisolated let leaseExpiry = Mutex<Date?>(nil)

    /// When this host's lock owner expires unless renewed; nil before it starts and after it stops.
    public nonisolated var leaseExpiresAt: Date? { leaseExpiry.withLock { $0 } }
    private var loaded: [UUID: HostedInstance] = [:]
    private var background: [Task<Void, Never>] = []
    /// The newest inbox entry id the poll has seen.
    private var inboxHighWater: Int64 = 0
    /// Entries for instances locked here whose load has not registered yet.
    private var strays: [UUID: [InboxEntry]] = [:]
    private let clock: StoreClock
    /// The detection loop's sleep until its next round; cancelled to run the round at once.
    private var detectionSleeper: Task<Void, Never>?
    private var detectionDueAt: ContinuousClock.Instant?
    /// After a failed detection round, other processes' commits do not start the next round
    /// before this (the failure is logged once a second at most, not at every commit).
    private var detectionRetryAt: ContinuousClock.Instant = .now
    /// Set by ``stop()``: nothing new is loaded or created.
    private var stopping = false
    /// Instances this host stopped running whose lock it could not release yet.
    private var pendingReleases: Set<UUID> = []
    private var detectionTask: Task<Void, Never>?
    /// Loads retried because another host held the instance (see ``retryLocked(_:for:)``).
    private var lockedRetries: [UUID: Task<Void, Never>] = [:]
    /// The renewal in flight because the lock came within the safety margin (see
    /// ``leaseAllowsWork()``); awaited by whoever asks meanwhile.
    private var urgentRenewal: Task<Bool, Never>?

    public init(
        store: any InstanceStore, catalog: DefinitionCatalog, options: HostOptions,
        onEvent: @escaping @Sendable (HostEvent) -> Void = { _ in },
        logger: Logger = Logger(label: "steadfast.host", factory: { _ in SwiftLogNoOpLogHandler() }),
        clock: @escaping StoreClock = { Date() }
    ) {
        var logger = logger
        logger[metadataKey: "host"] = .string(options.hostID)
        self.logger = logger
        self.clock = clock
        self.store = store
        self.catalog = catalog
        self.options = options
        self.onEvent = onEvent
    }

    // MARK: Life cycle

    /// Registers this host as a lock owner. With `background`, also renews the lock and runs
    /// runnable-instance detection until ``stop()``.
    public func start(background runLoops: Bool = true) async throws {
        stopping = false
        owner = try await store.createLockOwner(
            hostID: options.hostID, lockDuration: options.hostLockRenewalPeriod + options.hostLockGrace)
        guard runLoops else { return }
        let detection = Task { await self.detectionLoop() }
        detectionTask = detection
        background = [Task { await self.renewLoop() }, detection, Task { await self.inboxLoop() }]
    }

    /// Graceful shutdown, bounded by `shutdownTimeout`: nothing new is loaded; loaded instances
    /// reach a persistable point and are saved and unlocked (the inbox poll and lock renewal go
    /// on meanwhile, so an instance waiting inside a no-persist zone can still get what it
    /// waits for); those that cannot in time are abandoned. Then the lock owner is deleted,
    /// which releases every lock left. No task of the host outlives this call.
    public func stop() async {
        stopping = true
        let loops = background
        background = []
        // Detection first, and wait for it: a round in flight could otherwise load an instance
        // after the shutdown below.
        detectionSleeper?.cancel()
        for task in loops where task == detectionTask { task.cancel() }
        await detectionTask?.value
        let retries = lockedRetries.values
        for task in retries { task.cancel() }
        for task in retries { await task.value }
        let instances = Array(loaded.values)
        await withTaskGroup(of: Bool.self) { group in
            for instance in instances {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        instance.shutdown(reply: { done.resume() })
                    }
                    return true
                }
            }
            group.addTask { [timeout = options.shutdownTimeout] in
                try? await Task.sleep(for: timeout)
                return false
            }
            var remaining = instances.count
            while remaining > 0, let saved = await group.next() {
                guard saved else {
                    for instance in instances { await instance.abandon() }
                    break
                }
                remaining -= 1
            }
            group.cancelAll()
        }
        for (id, instance) in loaded {
            report(
                .abandoned(instance: id.uppercasedText, reason: "the host stopped before it could save it"),
                definition: instance.definition)
        }
        loaded = [:]
        strays = [:]
        pendingReleases = []  // deleting the owner below releases them
        for task in loops { task.cancel() }
        for task in loops { await task.value }
        _ = await urgentRenewal?.value
        detectionTask = nil
        if let owner { try? await store.deleteLockOwner(owner.id) }
        owner = nil
    }

    public var loadedCount: Int { loaded.count }

    /// How many runnable instances one detection transaction claims at most.
    static let detectionBatch = 64

    // MARK: Instances

    /// Creates and starts an instance of the newest version of `definitionName`.
    @discardableResult
    public func startInstance(definitionName: String, input: [String: JSONValue] = [:]) async throws -> UUID {
        try await startInstance(definitionName: definitionName, version: nil, input: input, idempotencyKey: nil).id
    }

    /// Creates and starts an instance of `version` of `definitionName` (nil: the newest hosted).
    /// With an idempotency key, a retry of the same request starts nothing and returns the
    /// instance the first one started (`replayed`), even if it has finished since; the same key
    /// with another definition, version or input is refused (`idempotencyKeyReused`).
    public func startInstance(
        definitionName: String, version: String?, input: [String: JSONValue], idempotencyKey: String?
    ) async throws -> (id: UUID, replayed: Bool) {
        let found =
            if let version { catalog.definition(name: definitionName, version: version) } else {
                catalog.latest(name: definitionName)
            }
        guard let definition = found else {
            let known = catalog.definitions.map { "\($0.name)@\($0.version)" }.sorted().joined(separator: ", ")
            let wanted =
                version.map { "version '\($0)' of '\(definitionName)'" } ?? "a definition named '\(definitionName)'"
            throw HostError(.definitionNotFound, "\(wanted) is not hosted here (hosted: \(known))")
        }
        let id = UUID()
        let instance = try WorkflowInstance(definition: definition, instanceID: id.uppercasedText, input: input)
        // The request as the client made it: a retry after a new version is deployed is the same.
        let request = JSONValue.object([
            "definition": .string(definitionName), "version": version.map(JSONValue.string) ?? .null,
            "input": .object(input),
        ])
        let idempotency = idempotencyKey.map { IdempotencyKey(key: $0, requestHash: Fingerprint.of(request.jsonText)) }
        do {
            let hosted = try await create(id: id, instance: instance, keys: [], input: input, idempotency: idempotency)
            hosted.send(.wake([]))
            return (id, false)
        } catch let error as InstanceStoreError where error.code == .duplicateRequest {
            guard let existing = error.instanceID else { throw error }
            return (existing, true)
        }
    }

    /// What ``send(operation:body:clientID:)`` stored.
    public struct Delivery: Sendable {
        /// The inbox entry holding the message.
        public var entry: InboxEntry
        /// Whether the message created a new instance.
        public var createdInstance: Bool
    }

    /// Delivers a message: stored in the inbox of the instance its correlation key names, or of
    /// a new instance when a hosted definition's receive creates instances. Nothing is refused
    /// because the instance is locked, suspended or not yet waiting: the entry waits in its
    /// inbox. When this host may run the instance now, it loads it at once; otherwise the host
    /// holding it, or runnable-instance detection, applies it. A message that no instance and no
    /// creating receive can take is refused, and nothing is stored.
    public func send(operation: String, body: JSONValue, clientID: String? = nil) async throws -> Delivery {
        switch try await route(operation: operation, body: body) {
        case .existing(let id):
            let entry = try await store.enqueue(
                .message(operation: operation, body: Data(body.jsonText.utf8)), for: id, clientID: clientID)
            try await wake(id, for: entry)
            return Delivery(entry: entry, createdInstance: false)
        case .create(let definition, let keys):
            let id = UUID()
            let instance = try WorkflowInstance(definition: definition, instanceID: id.uppercasedText)
            let hosted = try await create(id: id, instance: instance, keys: keys)
            let entry = try await store.enqueue(
                .message(operation: operation, body: Data(body.jsonText.utf8)), for: id, clientID: clientID)
            hosted.send(.wake([entry]))
            return Delivery(entry: entry, createdInstance: true)
        }
    }

    /// Stores a message for an instance by id, whoever holds it, and loads the instance here
    /// when this host can apply it now (see ``wake(_:for:)``).
    @discardableResult
    public func deliver(to id: UUID, operation: String, body: JSONValue, clientID: String? = nil) async throws
        -> InboxEntry
    {
        let entry = try await store.enqueue(
            .message(operation: operation, body: Data(body.jsonText.utf8)), for: id, clientID: clientID)
        try await wake(id, for: entry)
        return entry
    }

    /// Where a message goes.
    enum Route {
        case existing(UUID)
        case create(WorkflowDefinition, keys: Set<InstanceKey>)
    }

    private func route(operation: String, body: JSONValue) async throws -> Route {
        let routes = catalog.routes(for: operation)
        guard !routes.isEmpty else {
            let hosted = catalog.definitions.map { "\($0.name)@\($0.version)" }.sorted().joined(separator: ", ")
            throw HostError(
                .noRoute,
                "no hosted definition receives '\(operation)' (hosted: \(hosted)); check the operation's name or "
                    + "pass the folder of the definition that receives it")
        }
        var keys: [InstanceKey] = []
        for route in routes {
            if let name = route.correlateOn, let value = body[name], value != .null {
                keys.append(InstanceKey(name: name, value: value))
            }
        }
        for key in keys {
            if let id = try await store.instanceID(forKey: key) { return .existing(id) }
        }
        // Which definition a new instance comes from: the ones whose creating receive finds its
        // key in the message; checked before anything is stored.
        let creators = routes.filter(\.createsInstance)
        let fitting = creators.filter { route in route.correlateOn.map { body[$0] != nil && body[$0] != .null } ?? true
        }
        guard !creators.isEmpty else {
            let keyText =
                keys.isEmpty
                ? "the message carries none of the key fields \(Set(routes.compactMap(\.correlateOn)).sorted())"
                : "no instance has \(keys.map(\.description).joined(separator: " or "))"
            throw HostError(
                .keyNotFound,
                "cannot deliver '\(operation)': \(keyText), and no hosted receive for it creates instances; "
                    + "nothing was stored")
        }
        let keyed = fitting.filter { $0.correlateOn != nil }
        guard let creator = keyed.count == 1 ? keyed.first : (keyed.isEmpty && fitting.count == 1 ? fitting.first : nil)
        else {
            let names = (fitting.isEmpty ? creators : fitting).map {
                "\($0.definition.name) (key \($0.correlateOn ?? "none"))"
            }
            throw HostError(
                .noRoute,
                fitting.isEmpty
                    ? "'\(operation)' creates instances of \(names.joined(separator: ", ")), but the message has none of those key fields"
                    : "'\(operation)' with this message could create instances of \(names.joined(separator: " or ")): give each definition its own operation"
            )
        }
        return .create(creator.definition, keys: Set(keys.filter { $0.name == creator.correlateOn }))
    }

    /// Loads an instance on this host when the entry can be applied here now: it is loaded here
    /// already (it gets the entry at once), or no live host holds it, this host runs its exact
    /// definition, and the entry is a control command or a message its open Receive takes (or it
    /// was saved mid-run). Otherwise the entry waits for the host that holds the instance, for a
    /// Receive to open, or for a host of its definition; nothing is rewritten.
    public func wake(_ id: UUID, for entry: InboxEntry) async throws {
        if loaded[id] != nil {
            // The poll hands over every entry that arrived for held instances, in order (one
            // sent by another process just before this one included).
            try await pollInbox()
            return
        }
        guard let owner, !stopping else { throw HostError(.hostStopped, "the host is not started") }
        let record: InstanceRecord
        do {
            record = try await store.readInstance(id)
        } catch let error as InstanceStoreError where error.code == .instanceNotFound {
            // Another round (the inbox poll, detection, another host) applied the entry and the
            // completion action deleted the instance meanwhile; the entry went with it.
            return
        }
        let summary = record.summary
        guard !summary.status.isFinal, hosts(summary.definition) else { return }
        if let lock = summary.lock, lock.expiresAt > now.date {
            // A live host holds it and applies the entry; with a retry policy, this host also
            // tries to load it, in the background, while the entry waits.
            retryLocked(id, for: entry)
            return
        }
        let applicable: Bool
        switch entry.command {
        case .message(let operation, _):
            applicable = !summary.isSuspended && (summary.status == .running || record.bookmarks.contains(operation))
        default:
            applicable = true
        }
        guard applicable else { return }
        do {
            let loadedInstance = try await store.loadInstance(id, owner: owner.id)
            _ = await host(loadedInstance)
        } catch let error as InstanceStoreError where error.code == .instanceLocked {
            retryLocked(id, for: entry)  // another host took it meanwhile, as above
        } catch let error as InstanceStoreError where error.code == .instanceNotFound {
            return  // another host took it and finished it meanwhile
        } catch let error as InstanceStoreError where error.code == .instanceQuarantined {
            // The claim faulted it (it kept stopping its hosts); the entry stays, settled with it.
            report(.faulted(instance: id.uppercasedText, reason: error.message))
        }
    }

    /// Loads an instance another host holds, again and again as `instanceLockedRetry` says,
    /// until it loads, the entry is no longer pending (its holder applied it), the policy gives
    /// up, or the host stops. At most one such retry runs per instance.
    private func retryLocked(_ id: UUID, for entry: InboxEntry) {
        let policy = options.instanceLockedRetry
        guard policy != .noRetry, lockedRetries[id] == nil else { return }
        lockedRetries[id] = Task {
            var attempt = 0
            var elapsed = Duration.zero
            while let wait = policy.delay(beforeAttempt: attempt + 1, elapsed: elapsed) {
                attempt += 1
                elapsed += wait
                guard (try? await Task.sleep(for: wait)) != nil, await self.retryLoad(id, for: entry) else { break }
            }
            self.endRetry(id)
        }
    }

    /// One retry of ``retryLocked(_:for:)``; whether to go on.
    private func retryLoad(_ id: UUID, for entry: InboxEntry) async -> Bool {
        guard let owner, !stopping, loaded[id] == nil,
            (try? await store.inboxEntry(entry.id))?.state == .pending
        else { return false }
        HostMetrics.lockedInstanceRetry()
        do {
            let record = try await store.loadInstance(id, owner: owner.id)
            _ = await host(record)
            return false
        } catch let error as InstanceStoreError where error.code == .instanceLocked {
            return true
        } catch {
            return false
        }
    }

    private func endRetry(_ id: UUID) { lockedRetries[id] = nil }

    /// One round of runnable-instance detection: loads every runnable instance of the hosted
    /// definitions (up to the concurrency limit) and returns when the next round is due.
    @discardableResult
    public func detectRunnableInstances() async throws -> Duration {
        guard let owner else { throw HostError(.hostStopped, "the host is not started") }
        // Claim in batches: one transaction (and one fsync) per batch, not per instance. Each
        // batch also gives the earliest future timer, read with the claim's own clock reading
        // (a timer falling due between two readings would otherwise wait a whole period).
        var due: Date?
        let lookahead = min(options.timerLookahead, options.runnableInstancesDetectionPeriod)
        repeat {
            let limit = min(Self.detectionBatch, options.maxConcurrentInstances - loaded.count)
            let batch = try await store.tryLoadRunnableInstances(
                owner: owner.id, limit: max(0, limit), definitions: hostedDefinitions, lookahead: lookahead)
            // Rows the claim could not resume were faulted in place (their state kept).
            for faulted in batch.faulted {
                report(.faulted(instance: faulted.id.uppercasedText, reason: faulted.reason))
            }
            var hosted = 0
            for runnable in batch.loaded where await host(runnable) { hosted += 1 }
            HostMetrics.detectionRound(claimed: hosted)
            due = batch.nextTimerDueTime
            // A short batch was all there was; one whose rows were handed back (the host is
            // stopping, definitions not hosted) would only be claimed again.
            if batch.claimedCount < limit || hosted == 0 || stopping || Task.isCancelled { break }
        } while loaded.count < options.maxConcurrentInstances
        let period = options.runnableInstancesDetectionPeriod
        guard let due else { return period }
        // The next round claims that timer (and the others of its window) `lookahead` early.
        let untilDue = Duration.milliseconds(due.millisecondsSince(now.date) + 1) - lookahead
        return max(.milliseconds(1), min(period, untilDue))
    }

    /// One poll of the inbox of the instances this host holds: entries that arrived since the
    /// last poll go to their loaded instance. An entry for an instance this host has locked but
    /// not registered yet (a load in flight) is kept and handed over when it registers.
    public func pollInbox() async throws {
        guard let owner else { throw HostError(.hostStopped, "the host is not started") }
        let entries = try await store.pendingInbox(lockedBy: owner.id, after: inboxHighWater)
        guard let last = entries.last else { return }
        inboxHighWater = max(inboxHighWater, last.id)
        for (id, forInstance) in Dictionary(grouping: entries, by: \.instanceID) {
            if let hosted = loaded[id] {
                hosted.send(.wake(forInstance))
            } else {
                strays[id, default: []].append(contentsOf: forInstance)
            }
        }
    }

    // MARK: Internals used by HostedInstance

    /// The current time, from the injected clock.
    nonisolated var now: Instant { Instant(clock()) }

    /// Saves `instance`. A save that releases the lock deregisters it in the same step, so a
    /// host that claims the instance again never finds this copy. A save that fails for any
    /// reason but a lost lock (the database busy, a disk error) releases the lock without
    /// saving, so the instance goes on from its last save — here or on another host — once
    /// the store recovers, instead of staying locked to a host that no longer runs it.
    func save(
        _ instance: HostedInstance, expectedVersion: Int64, snapshot: InstanceSnapshot, applied: [Int64],
        rejected: [Int64: String], poison: [Int64: String], lockAction: SaveLockAction, history: [HistoryEvent]
    ) async throws -> SaveResult {
        let id = instance.id
        guard let owner, owner.lockExpiresAt > now.date else {
            deregister(id, instance)
            throw HostError(.lockLost, "this host's lock expired: it stopped working on instance \(id)")
        }
        do {
            let result = try await store.save(
                SaveRequest(
                    instanceID: id, owner: owner.id, expectedVersion: expectedVersion, snapshot: snapshot,
                    appliedEntryIDs: applied, rejectedEntries: rejected, poisonEntries: poison,
                    lockAction: lockAction, history: history))
            if lockAction != .keepLock { deregister(id, instance) }
            return result
        } catch let error as InstanceStoreError where error.code == .stateTooLarge {
            throw error  // refused for what it would write: the instance faults and saves that
        } catch {
            deregister(id, instance)
            let lost: Set<InstanceStoreError.Code> = [.lockLost, .versionConflict, .ownerExpired, .ownerNotFound]
            if let storeError = error as? InstanceStoreError, lost.contains(storeError.code) { throw error }
            await release(id, owner: owner.id)
            throw error
        }
    }

    /// Releases this host's lock on an instance it no longer runs. While the store cannot be
    /// written (busy, a disk error), the release is retried on every poll of the inbox loop
    /// until it succeeds; stopping the host releases every lock it still has.
    private func release(_ id: UUID, owner: UUID) async {
        do {
            try await store.releaseLock(of: id, owner: owner)
            pendingReleases.remove(id)
        } catch {
            pendingReleases.insert(id)
        }
    }

    /// Releases an instance an `abandon` entry asked this host to let go of, without saving; the
    /// release marks the entry applied. If the store cannot be written now, the lock is released
    /// by a later poll (the entry then stays pending, and the next host to load the instance
    /// applies it — a no-op there, as nothing unsaved is held).
    func release(_ instance: HostedInstance, settling entry: Int64?) async {
        deregister(instance.id, instance)
        guard let owner else { return }
        do {
            try await store.releaseLock(of: instance.id, owner: owner.id, applied: entry.map { [$0] } ?? [])
            report(
                .abandoned(
                    instance: instance.id.uppercasedText,
                    reason: entry.map { "abandoned by an operator (inbox entry \($0))" }
                        ?? "its state could not be saved; released unsaved"), definition: instance.definition)
        } catch {
            pendingReleases.insert(instance.id)
        }
    }

    /// Retries the releases that failed.
    private func retryReleases() async {
        guard let owner, !pendingReleases.isEmpty else { return }
        for id in pendingReleases {
            // Loaded here again meanwhile: this host runs it, and keeps its lock.
            if loaded[id] != nil { pendingReleases.remove(id) } else { await release(id, owner: owner.id) }
        }
    }

    private func deregister(_ id: UUID, _ instance: HostedInstance) {
        if loaded[id] === instance { loaded[id] = nil }
        strays[id] = nil
    }

    /// Logs, counts and passes on an event; `definition` is the instance's, when known.
    nonisolated func report(_ event: HostEvent, definition: DefinitionIdentity? = nil) {
        HostMetrics.record(event)
        logger.log(event, definition: definition)
        onEvent(event)
    }

    /// Forgets a dropped instance. Only that very instance: if the id was loaded again since
    /// (after a lost lock, say), the new one stays registered so shutdown still saves it.
    nonisolated func forget(_ id: UUID, _ instance: HostedInstance) {
        Task { await self.remove(id, instance) }
    }

    private func remove(_ id: UUID, _ instance: HostedInstance) {
        deregister(id, instance)
    }

    /// The exact definitions this host runs.
    public var hostedDefinitions: Set<DefinitionIdentity> { Set(catalog.definitions.map(\.identity)) }

    /// Whether this host runs `definition` (a row stored before fingerprints matches on name and
    /// version).
    func hosts(_ definition: DefinitionIdentity) -> Bool {
        definition.fingerprint.isEmpty
            ? catalog.definition(name: definition.name, version: definition.version) != nil
            : hostedDefinitions.contains(definition)
    }

    private func create(
        id: UUID, instance: WorkflowInstance, keys: Set<InstanceKey>, input: [String: JSONValue] = [:],
        idempotency: IdempotencyKey? = nil
    ) async throws -> HostedInstance {
        guard let owner, !stopping else { throw HostError(.hostStopped, "the host is not started or is stopping") }
        guard loaded.count < options.maxConcurrentInstances else {
            throw HostError(
                .tooManyInstances,
                "this host already runs \(loaded.count) instances (maxConcurrentInstances): retry later")
        }
        var snapshot = try instance.snapshot(suspended: false)
        snapshot.keys.formUnion(keys)
        let history =
            options.tracking(for: instance.definition.identity) == .off
            ? []
            : [
                HistoryEvent(
                    at: now.date, kind: .created, detail: ["input": .object(input), "host": .string(options.hostID)])
            ]
        let record = try await store.createInstance(
            CreateInstanceRequest(
                id: id, owner: owner.id, definition: instance.definition.identity, snapshot: snapshot,
                idempotency: idempotency, history: history))
        HostMetrics.started(instance.definition.identity)
        report(.started(instance: id.uppercasedText), definition: instance.definition.identity)
        let hosted = HostedInstance(
            id: id, instance: instance, version: record.version, suspended: false, host: self, options: options)
        loaded[id] = hosted
        return hosted
    }

    /// Makes a loaded record a hosted instance and wakes it with its pending inbox. An instance
    /// whose exact definition is not hosted here (or was edited without a new version) is not
    /// faulted: it is unlocked untouched, marked blocked on that definition, and runs again when
    /// a host has it. A state that cannot be decoded faults that one instance with the reason;
    /// its stored bytes are kept as they were. Returns whether the instance was hosted.
    private func host(_ loadedInstance: LoadedInstance) async -> Bool {
        let record = loadedInstance.record
        guard !stopping else {
            // Claimed while the host began to stop: give it back untouched.
            if let owner { await release(record.id, owner: owner.id) }
            return false
        }
        // Claimed under an owner this host has since given up (its lock expired while the claim
        // was in flight): another host may run it already; this one must not.
        guard let owner, record.summary.lock?.ownerID == owner.id else {
            strays[record.id] = nil
            report(
                .abandoned(instance: record.id.uppercasedText, reason: "claimed under a lock this host has lost"),
                definition: record.summary.definition)
            return false
        }
        let stored = record.summary.definition
        // Already loaded here (detection got it while a message was being delivered — a lock
        // owner may load its own instance again): the loaded copy takes the entries and skips
        // any it has already taken. Never two copies of one instance.
        if let existing = loaded[record.id] {
            existing.send(.wake(loadedInstance.inbox))
            return true
        }
        guard let definition = catalog.definition(name: stored.name, version: stored.version), hosts(stored) else {
            block(record, reason: "its definition \(stored) is not hosted")
            return false
        }
        let instance: WorkflowInstance
        do {
            instance = try WorkflowInstance(definition: definition, encodedState: record.state)
        } catch  where error.code == .definitionMismatch {
            block(record, reason: error.message)
            return false
        } catch {
            Task { await self.fault(record, reason: error.message) }
            return false
        }
        let hosted = HostedInstance(
            id: record.id, instance: instance, version: record.version, suspended: record.summary.isSuspended,
            host: self, options: options, loaded: true)
        loaded[record.id] = hosted
        report(.loaded(instance: record.id.uppercasedText), definition: stored)
        // One wake with the load's inbox and any entry the poll saw first, so they apply in order.
        hosted.send(.wake(loadedInstance.inbox + (strays.removeValue(forKey: record.id) ?? [])))
        return true
    }

    private func block(_ record: InstanceRecord, reason: String) {
        strays[record.id] = nil
        report(.blocked(instance: record.id.uppercasedText, reason: reason), definition: record.summary.definition)
        Task { try? await self.unlockUntouched(record, blockedReason: "waits for a host of \(reason)") }
    }

    private func fault(_ record: InstanceRecord, reason: String) async {
        strays[record.id] = nil
        guard let owner else { return }
        var snapshot = InstanceSnapshot(
            state: record.state, status: .faulted, isSuspended: record.summary.isSuspended,
            keys: record.keys, bookmarks: [], promotedProperties: record.promotedProperties,
            fault: "cannot resume: \(reason)")
        snapshot.nextTimerAt = nil
        do {
            let history =
                options.tracking(for: record.summary.definition) == .off
                ? []
                : [HistoryEvent(at: now.date, kind: .faulted, detail: ["fault": .string("cannot resume: \(reason)")])]
            _ = try await store.save(
                SaveRequest(
                    instanceID: record.id, owner: owner.id, expectedVersion: record.version, snapshot: snapshot,
                    lockAction: .unlock, history: history))
            report(.faulted(instance: record.id.uppercasedText, reason: reason), definition: record.summary.definition)
        } catch {
            report(
                .abandoned(instance: record.id.uppercasedText, reason: "could not record the fault: \(error)"),
                definition: record.summary.definition)
        }
    }

    private func unlockUntouched(_ record: InstanceRecord, blockedReason: String?) async throws {
        guard let owner else { return }
        let snapshot = InstanceSnapshot(
            state: record.state, status: record.status, isSuspended: record.summary.isSuspended,
            nextTimerAt: record.summary.nextTimerAt, keys: record.keys, bookmarks: record.bookmarks,
            promotedProperties: record.promotedProperties, fault: record.summary.fault, blockedReason: blockedReason)
        _ = try await store.save(
            SaveRequest(
                instanceID: record.id, owner: owner.id, expectedVersion: record.version, snapshot: snapshot,
                lockAction: .unlock))
    }

    private func renewLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.hostLockRenewalPeriod)
            guard !Task.isCancelled else { return }
            guard owner != nil else {
                // Registering anew failed after a lost lock: try again each period.
                if !stopping {
                    owner = try? await store.createLockOwner(
                        hostID: options.hostID, lockDuration: options.hostLockRenewalPeriod + options.hostLockGrace)
                }
                continue
            }
            if await renew() { await pruneHistory() }
        }
    }

    /// Removes the history of instances that finished more than `historyRetention` ago, up to
    /// 100 instances' worth per call (so a backlog drains over a few renewals, never in one big
    /// transaction). A failure waits for the next renewal.
    func pruneHistory() async {
        let cutoff = now.adding(.zero - options.historyRetention)
        _ = try? await store.pruneHistory(endedBefore: cutoff.date, limit: 100)
    }

    /// Renews the lock owner. When that fails and the lock may have expired, stops working on
    /// every instance rather than risk running one twice, and registers anew. Returns whether
    /// the lock is renewed.
    private func renew() async -> Bool {
        guard let current = owner else { return false }
        do {
            let renewed = try await store.renewLockOwner(current.id)
            if owner?.id == current.id { owner = renewed }
            HostMetrics.renewal(succeeded: true)
            return true
        } catch {
            HostMetrics.renewal(succeeded: false)
            // Another renewal already dealt with this owner (or renewed it meanwhile: the
            // freshest expiry counts), or it may still be live.
            guard let latest = owner, latest.id == current.id, latest.lockExpiresAt <= now.date else { return false }
            // Forget everything before the first await, so nothing registers under the lost
            // owner meanwhile (a claim in flight finds the owner changed and lets go).
            let abandoned = loaded
            loaded = [:]
            strays = [:]
            inboxHighWater = 0
            owner = nil
            for (id, hosted) in abandoned {
                report(
                    .abandoned(
                        instance: id.uppercasedText,
                        reason: "this host's lock expired before it could renew it: \(error)"),
                    definition: hosted.definition)
                await hosted.abandon()
            }
            guard !stopping else { return false }
            owner = try? await store.createLockOwner(
                hostID: options.hostID, lockDuration: options.hostLockRenewalPeriod + options.hostLockGrace)
            return false
        }
    }

    /// The lease safety margin in force: ``HostOptions/lockSafetyMargin``, at most a third of
    /// the lock's lifetime.
    private nonisolated var safetyMargin: Duration {
        min(options.lockSafetyMargin, (options.hostLockRenewalPeriod + options.hostLockGrace) / 3)
    }

    /// Whether an instance may start work now: this host's lock is valid for longer than the
    /// safety margin. When it is not (the host was paused or starved), it renews at once and
    /// answers whether that succeeded; a lock found lost abandons every instance (see
    /// ``renew()``), so a paused host never runs a step another host already ran and saved.
    func leaseAllowsWork() async -> Bool {
        if leaseIsSafe { return true }
        guard owner != nil else { return false }
        // One renewal answers every instance that asks meanwhile.
        if let renewal = urgentRenewal { return await renewal.value }
        let renewal = Task { await self.renew() }
        urgentRenewal = renewal
        defer { urgentRenewal = nil }
        return await renewal.value
    }

    /// Whether the lock is valid for longer than the safety margin now (no renewal needed).
    nonisolated var leaseIsSafe: Bool {
        guard let expiry = leaseExpiry.withLock({ $0 }) else { return false }
        return Duration.milliseconds(expiry.millisecondsSince(now.date)) > safetyMargin
    }

    private func detectionLoop() async {
        var lastBlockedScan = ContinuousClock.now - options.runnableInstancesDetectionPeriod
        while !Task.isCancelled {
            let wait: Duration
            do {
                // Once a period (rounds also run early, when other processes add work).
                if ContinuousClock.now - lastBlockedScan >= options.runnableInstancesDetectionPeriod {
                    lastBlockedScan = .now
                    try await store.markBlockedInstances(hosting: hostedDefinitions)
                }
                wait = try await detectRunnableInstances()
            } catch {
                report(.detectionFailed(reason: "\(error)"))
                wait = options.runnableInstancesDetectionPeriod
                detectionRetryAt = .now + min(wait, .seconds(1))
            }
            let sleeper = Task { _ = try? await Task.sleep(for: wait) }
            detectionSleeper = sleeper
            detectionDueAt = .now + wait
            await sleeper.value
        }
    }

    /// Every poll interval: takes the inbox entries that arrived for the instances held here,
    /// and looks whether other processes made work runnable or armed a timer earlier than the
    /// next detection round; if so, the round runs at once.
    private func inboxLoop() async {
        var token: Int64 = -1
        while !Task.isCancelled {
            await retryReleases()
            do {
                // The look first: a change it does not see yet ends the wait below at once.
                let look = try await store.lookForWork(since: token, definitions: hostedDefinitions)
                token = look.token
                try await pollInbox()
                if look.changed {
                    // A timer another process armed before the round already planned (that round
                    // wakes just after the timer it knows of; a timer due within a few ms of it
                    // needs no earlier round).
                    let lookahead = min(options.timerLookahead, options.runnableInstancesDetectionPeriod)
                    let earlier = look.nextTimerDueTime.map {
                        ContinuousClock.now + .milliseconds(max(0, $0.millisecondsSince(now.date)) + 5) - lookahead
                            < (detectionDueAt ?? .now)
                    }
                    if look.runnableNow || earlier == true, ContinuousClock.now >= detectionRetryAt {
                        detectionSleeper?.cancel()
                    }
                }
            } catch {
                report(.detectionFailed(reason: "inbox poll: \(error)"))
            }
            await store.waitForChange(since: token, timeout: options.inboxPollInterval)
        }
    }
}

extension Date {
    /// Whole milliseconds from `other` to this date, rounded up.
    func millisecondsSince(_ other: Date) -> Int64 {
        Int64((timeIntervalSince(other) * 1000).rounded(.up))
    }
}
