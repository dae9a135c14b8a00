import Foundation
import SteadfastCore
import SteadfastStore

/// Hosts workflow instances over an instance store: registers as a lock owner and renews it,
/// loads runnable instances (due timers, waiting messages), routes messages by correlation key,
/// applies the idle policy, and on shutdown saves and unlocks what it holds.
public actor WorkflowHost {
    public let store: any InstanceStore
    public let catalog: DefinitionCatalog
    public let options: HostOptions
    private let onEvent: @Sendable (HostEvent) -> Void
    private var owner: LockOwner?
    private var loaded: [UUID: HostedInstance] = [:]
    private var background: [Task<Void, Never>] = []

    public init(
        store: any InstanceStore, catalog: DefinitionCatalog, options: HostOptions,
        onEvent: @escaping @Sendable (HostEvent) -> Void = { _ in }
    ) {
        self.store = store
        self.catalog = catalog
        self.options = options
        self.onEvent = onEvent
    }

    // MARK: Life cycle

    /// Registers this host as a lock owner. With `background`, also renews the lock and runs
    /// runnable-instance detection until ``stop()``.
    public func start(background runLoops: Bool = true) async throws {
        owner = try await store.createLockOwner(
            hostID: options.hostID, lockDuration: options.hostLockRenewalPeriod + options.hostLockGrace)
        guard runLoops else { return }
        background.append(Task { await self.renewLoop() })
        background.append(Task { await self.detectionLoop() })
    }

    /// Graceful shutdown: in-flight instances reach a persistable point, are saved and
    /// unlocked; then the lock owner is deleted.
    public func stop() async {
        // Stop the loops and wait for them: a detection round still in flight could otherwise
        // load an instance after the shutdown below has unloaded everything.
        let loops = background
        background = []
        for task in loops { task.cancel() }
        for task in loops { await task.value }
        await withTaskGroup(of: Void.self) { group in
            for instance in loaded.values {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        instance.send(.shutdown(reply: { _ in done.resume() }))
                    }
                }
            }
        }
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
        guard let definition = catalog.latest(name: definitionName) else {
            let known = catalog.definitions.map(\.name).sorted().joined(separator: ", ")
            throw HostError(.definitionNotFound, "no definition named '\(definitionName)' is hosted (hosted: \(known))")
        }
        let id = UUID()
        let instance = try WorkflowInstance(definition: definition, instanceID: id.uuidString, input: input)
        let hosted = try await create(id: id, instance: instance, keys: [])
        hosted.send(.wake([]))
        return id
    }

    /// Delivers a message: routed by correlation key to the instance waiting for it (loading it
    /// if needed), or creating an instance when a definition's receive creates instances.
    /// Returns the instance's state right after the message was applied.
    @discardableResult
    public func send(operation: String, body: JSONValue) async throws -> SteadfastCore.InstanceState {
        let routes = catalog.routes(for: operation)
        guard !routes.isEmpty else {
            throw HostError(.noRoute, "no hosted definition receives '\(operation)'")
        }
        var keys: [InstanceKey] = []
        for route in routes {
            if let name = route.correlateOn, let value = body[name], value != .null {
                keys.append(InstanceKey(name: name, value: value.text))
            }
        }
        for key in keys {
            if let id = try await store.instanceID(forKey: key) {
                return try await deliver(to: id, operation: operation, body: body)
            }
        }
        // Which definition a new instance comes from: the ones whose creating receive finds its
        // key in the message; checked before anything is stored.
        let creators = routes.filter(\.createsInstance)
        let fitting = creators.filter { route in route.correlateOn.map { body[$0] != nil && body[$0] != .null } ?? true
        }
        guard !creators.isEmpty else {
            let keyText =
                keys.isEmpty
                ? "the message carries no correlation key"
                : "no instance has \(keys.map(\.description).joined(separator: " or "))"
            throw HostError(.instanceNotFound, "cannot deliver '\(operation)': \(keyText)")
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
        let id = UUID()
        let instance = try WorkflowInstance(definition: creator.definition, instanceID: id.uuidString)
        let initialKeys = Set(keys.filter { $0.name == creator.correlateOn })
        let hosted = try await create(id: id, instance: instance, keys: initialKeys)
        return try await ask {
            hosted.send(.wake([HostedInstance.Delivery(operation: operation, body: body, reply: $0)]))
        }
    }

    /// Delivers a message to a known instance's open bookmark.
    @discardableResult
    public func deliver(to id: UUID, operation: String, body: JSONValue) async throws -> SteadfastCore.InstanceState {
        if let hosted = loaded[id] {
            return try await ask {
                hosted.send(.wake([HostedInstance.Delivery(operation: operation, body: body, reply: $0)]))
            }
        }
        guard let owner else { throw HostError(.hostStopped, "the host is not started") }
        // Take the lock first: the stored bookmarks are only current once no other host holds
        // the instance (it saves them when it unloads).
        let loadedInstance = try await store.loadInstance(id, owner: owner.id, retry: options.instanceLockedRetry)
        let record = loadedInstance.record
        // An idle record's bookmarks are final; a running one (saved mid-run) is run first when
        // it wakes, and the message is applied after, or refused then with a clear error.
        guard !record.status.isFinal, record.status == .running || record.bookmarks.contains(operation) else {
            try? await unlockUntouched(record)
            if record.status.isFinal {
                throw HostError(.notWaiting, "instance \(id) is \(record.status.rawValue) and takes no more messages")
            }
            let open = record.bookmarks.sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw HostError(
                .notWaiting,
                "instance \(id) is not waiting for '\(operation)'" + (open.isEmpty ? "" : "; it waits for \(open)"))
        }
        // The message is stored before it is applied, so a crash cannot lose it; the save that
        // applies it consumes it.
        let message = try await store.enqueueMessage(for: id, operation: operation, body: Data(body.jsonText.utf8))
        var current = LoadedInstance(record: record, pendingMessages: loadedInstance.pendingMessages + [message])
        for attempt in 1...3 {
            guard current.pendingMessages.contains(where: { $0.id == message.id }) else {
                // Another copy applied and consumed it meanwhile: wake this one and report its state.
                _ = host(current, replyTo: nil)
                return try SteadfastCore.InstanceState.decode(current.record.state)
            }
            let loadedNow = current
            do {
                return try await ask { reply in
                    if !self.host(loadedNow, replyTo: (message.id, reply)) {
                        reply(
                            .failure(
                                HostError(
                                    .notWaiting, "instance \(id) could not be resumed: see its fault (wf show \(id))")))
                    }
                }
            } catch let error as HostError where error.code == .instanceNotFound && attempt < 3 {
                // The copy loaded here unloaded before it took the message; the message is still
                // stored: load the instance again and hand it over.
                try await Task.sleep(for: .milliseconds(20))
                current = try await store.loadInstance(id, owner: owner.id, retry: options.instanceLockedRetry)
            }
        }
        throw HostError(
            .instanceNotFound,
            "instance \(id) kept unloading before it took the message; it is stored and will be applied when the instance next loads"
        )
    }

    /// One round of runnable-instance detection: loads every runnable instance (up to the
    /// concurrency limit) and returns when the next round is due.
    @discardableResult
    public func detectRunnableInstances() async throws -> Duration {
        guard let owner else { throw HostError(.hostStopped, "the host is not started") }
        // Claim in batches: one transaction (and one fsync) per batch, not per instance.
        while loaded.count < options.maxConcurrentInstances {
            let batch = try await store.tryLoadRunnableInstances(
                owner: owner.id, limit: min(Self.detectionBatch, options.maxConcurrentInstances - loaded.count))
            for runnable in batch { _ = host(runnable, replyTo: nil) }
            if batch.count < Self.detectionBatch { break }
        }
        let period = options.runnableInstancesDetectionPeriod
        guard let due = try await store.nextTimerDueTime() else { return period }
        let untilDue = Duration.milliseconds(Int64((due.timeIntervalSinceNow * 1000).rounded(.up)) + 1)
        return max(.milliseconds(1), min(period, untilDue))
    }

    // MARK: Internals used by HostedInstance

    func save(
        id: UUID, expectedVersion: Int64, snapshot: InstanceSnapshot, consumed: [Int64], lockAction: SaveLockAction
    )
        async throws -> SaveResult
    {
        guard let owner, owner.lockExpiresAt > Date() else {
            throw HostError(.lockLost, "this host's lock expired: it stopped working on instance \(id)")
        }
        return try await store.save(
            SaveRequest(
                instanceID: id, owner: owner.id, expectedVersion: expectedVersion, snapshot: snapshot,
                consumedMessageIDs: consumed, lockAction: lockAction))
    }

    nonisolated func report(_ event: HostEvent) { onEvent(event) }

    /// Forgets a dropped instance. Only that very instance: if the id was loaded again since
    /// (after a lost lock, say), the new one stays registered so shutdown still saves it.
    nonisolated func forget(_ id: UUID, _ instance: HostedInstance) {
        Task { await self.remove(id, instance) }
    }

    private func remove(_ id: UUID, _ instance: HostedInstance) {
        if loaded[id] === instance { loaded[id] = nil }
    }

    private func create(id: UUID, instance: WorkflowInstance, keys: Set<InstanceKey>) async throws -> HostedInstance {
        guard let owner else { throw HostError(.hostStopped, "the host is not started") }
        guard loaded.count < options.maxConcurrentInstances else {
            throw HostError(
                .tooManyInstances,
                "this host already runs \(loaded.count) instances (maxConcurrentInstances): retry later")
        }
        var snapshot = instance.state.snapshot(suspended: false)
        snapshot.keys.formUnion(keys)
        let record = try await store.createInstance(
            CreateInstanceRequest(
                id: id, owner: owner.id, definition: instance.definition.identity.storeIdentity, snapshot: snapshot))
        let hosted = HostedInstance(
            id: id, instance: instance, version: record.version, suspended: false, host: self, options: options)
        loaded[id] = hosted
        return hosted
    }

    /// Makes a loaded record a hosted instance and wakes it with its waiting messages; the
    /// message `replyTo` names gets the reply. A state that cannot be resumed (corrupt, or saved
    /// under a definition this host has with other content) faults that one instance with the
    /// reason; its stored bytes are kept as they were. Returns whether the instance was hosted.
    private func host(_ loadedInstance: LoadedInstance, replyTo: (Int64, HostedInstance.Reply)?) -> Bool {
        let record = loadedInstance.record
        let stored = record.summary.definition
        guard let definition = catalog.definition(name: stored.name, version: stored.version) else {
            report(.abandoned(instance: record.id.uuidString, reason: "definition \(stored) is not hosted here"))
            Task { try? await self.unlockUntouched(record) }
            return false
        }
        let instance: WorkflowInstance
        do {
            instance = try WorkflowInstance(definition: definition, encodedState: record.state)
        } catch {
            Task { await self.fault(record, reason: error.message) }
            return false
        }
        let deliveries = loadedInstance.pendingMessages.map { message in
            HostedInstance.Delivery(
                operation: message.operation, body: (try? JSONValue.parse(message.body, what: "the message")) ?? .null,
                messageID: message.id, reply: message.id == replyTo?.0 ? replyTo?.1 : nil)
        }
        // Already loaded here (detection got it while a message was being delivered — a lock
        // owner may load its own instance again): the loaded copy takes the messages and skips
        // any it has already applied. Never two copies of one instance.
        if let existing = loaded[record.id] {
            existing.send(.wake(deliveries))
            return true
        }
        let hosted = HostedInstance(
            id: record.id, instance: instance, version: record.version, suspended: record.summary.isSuspended,
            host: self, options: options)
        loaded[record.id] = hosted
        report(.loaded(instance: record.id.uuidString))
        hosted.send(.wake(deliveries))
        return true
    }

    private func fault(_ record: InstanceRecord, reason: String) async {
        guard let owner else { return }
        var snapshot = InstanceSnapshot(
            state: record.state, status: .faulted, isSuspended: record.summary.isSuspended,
            keys: record.keys, bookmarks: [], promotedProperties: record.promotedProperties,
            fault: "cannot resume: \(reason)")
        snapshot.nextTimerAt = nil
        do {
            _ = try await store.save(
                SaveRequest(
                    instanceID: record.id, owner: owner.id, expectedVersion: record.version, snapshot: snapshot,
                    lockAction: .unlock))
            report(.faulted(instance: record.id.uuidString, reason: reason))
        } catch {
            report(.abandoned(instance: record.id.uuidString, reason: "could not record the fault: \(error)"))
        }
    }

    private func unlockUntouched(_ record: InstanceRecord) async throws {
        guard let owner else { return }
        let snapshot = InstanceSnapshot(
            state: record.state, status: record.status, isSuspended: record.summary.isSuspended,
            nextTimerAt: record.summary.nextTimerAt, keys: record.keys, bookmarks: record.bookmarks,
            promotedProperties: record.promotedProperties, fault: record.summary.fault)
        _ = try await store.save(
            SaveRequest(
                instanceID: record.id, owner: owner.id, expectedVersion: record.version, snapshot: snapshot,
                lockAction: .unlock))
    }

    /// Sends something that replies once, and waits for the reply.
    private func ask(_ send: (@escaping HostedInstance.Reply) -> Void) async throws -> SteadfastCore.InstanceState {
        try await withCheckedThrowingContinuation { continuation in send { continuation.resume(with: $0) } }
    }

    private func renewLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: options.hostLockRenewalPeriod)
            guard !Task.isCancelled, let current = owner else { return }
            do {
                owner = try await store.renewLockOwner(current.id)
            } catch {
                // Renewal failed: once the lock may have expired, stop working on every
                // instance rather than risk running one twice; then register anew.
                guard current.lockExpiresAt <= Date() else { continue }
                for (id, hosted) in loaded {
                    report(
                        .abandoned(
                            instance: id.uuidString,
                            reason: "this host's lock expired before it could renew it: \(error)"))
                    await hosted.abandon()
                }
                loaded = [:]
                owner = try? await store.createLockOwner(
                    hostID: options.hostID, lockDuration: options.hostLockRenewalPeriod + options.hostLockGrace)
            }
        }
    }

    private func detectionLoop() async {
        while !Task.isCancelled {
            let wait = (try? await detectRunnableInstances()) ?? options.runnableInstancesDetectionPeriod
            try? await Task.sleep(for: wait)
        }
    }
}

extension SteadfastStore.InstanceStatus {
    var isFinal: Bool {
        switch self {
        case .running, .idle: false
        default: true
        }
    }
}
