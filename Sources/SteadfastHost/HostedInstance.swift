import Foundation
import SteadfastCore
import SteadfastStore

/// One instance loaded on this host. Events for it are queued and handled one at a time by a
/// single task, so messages, timers and async results for one instance never race, while
/// different instances run in parallel.
actor HostedInstance {
    /// A message to apply; `messageID` when it came from the store (consumed with the next save).
    struct Delivery: Sendable {
        var operation: String
        var body: JSONValue
        var messageID: Int64?
        var reply: Reply?
    }

    enum Event: Sendable {
        /// Run whatever can run now, apply these messages, fire due timers; then decide once.
        /// This is how a new or just-loaded instance starts, so nothing is decided (an unload,
        /// say) before its waiting messages and timers were applied.
        case wake([Delivery])
        case timers
        case asyncCompleted(call: Int, outcome: InvokeOutcome)
        case idle(persist: Bool, generation: Int)
        case shutdown(reply: Reply)
    }

    typealias Reply = @Sendable (Result<SteadfastCore.InstanceState, any Error>) -> Void

    let id: UUID
    private var instance: WorkflowInstance
    private var version: Int64
    private let suspended: Bool
    private var consumedMessageIDs: [Int64] = []
    /// Stored messages already applied, so one delivered twice (two loads) is applied once.
    private var appliedMessageIDs: Set<Int64> = []
    private var generation = 0
    private var timerTask: Task<Void, Never>?
    private var idleTasks: [Task<Void, Never>] = []
    private var shuttingDown: Reply?
    private var dropped = false
    private let events: AsyncStream<Event>.Continuation
    private let host: WorkflowHost
    private let options: HostOptions

    init(
        id: UUID, instance: WorkflowInstance, version: Int64, suspended: Bool, host: WorkflowHost, options: HostOptions
    ) {
        self.id = id
        self.instance = instance
        self.version = version
        self.suspended = suspended
        self.host = host
        self.options = options
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        self.events = continuation
        Task { await self.process(stream) }
    }

    /// Queues an event; returns false if the instance has been dropped.
    nonisolated func send(_ event: Event) {
        if case .terminated = events.yield(event) {
            reject(event)
        }
    }

    /// Answers an event that arrived after the instance was dropped.
    private nonisolated func reject(_ event: Event) {
        let gone = HostError(.instanceNotFound, "instance \(id) is no longer loaded on this host: send again")
        switch event {
        case .wake(let deliveries): for delivery in deliveries { delivery.reply?(.failure(gone)) }
        case .shutdown(let reply): reply(.failure(gone))
        default: break
        }
    }

    var state: SteadfastCore.InstanceState { instance.state }

    private func process(_ stream: AsyncStream<Event>) async {
        // After a drop the stream is finished: what is still buffered is answered, not lost.
        for await event in stream {
            if dropped { reject(event) } else { await handle(event) }
        }
    }

    private func handle(_ event: Event) async {
        let now = Instant.now
        var result: RunResult
        switch event {
        case .wake(let deliveries):
            result = instance.run(now: now)
            // A state saved at a persist point goes on only after a durable save: do that before
            // the waiting messages, which may be for what comes after it.
            while result.persistRequested && result.canPersist && !deliveries.isEmpty {
                guard await save(.keepLock) else {
                    for delivery in deliveries {
                        delivery.reply?(.failure(HostError(.lockLost, "instance \(id) was lost while loading")))
                    }
                    return
                }
                result.append(instance.acknowledgePersist(now: now))
            }
            for delivery in deliveries {
                if let messageID = delivery.messageID {
                    guard appliedMessageIDs.insert(messageID).inserted else {
                        delivery.reply?(.success(instance.state))
                        continue
                    }
                    consumedMessageIDs.append(messageID)
                }
                do {
                    result.append(try instance.resume(operation: delivery.operation, message: delivery.body, now: now))
                    delivery.reply?(.success(instance.state))
                } catch {
                    delivery.reply?(.failure(error))
                    if delivery.messageID != nil {
                        host.report(
                            .faulted(
                                instance: id.uuidString,
                                reason: "message for '\(delivery.operation)' dropped: \(error.message)"))
                    }
                }
            }
            result.append(instance.resumeDueTimers(now: now))
        case .timers:
            result = instance.resumeDueTimers(now: now)
        case .asyncCompleted(let call, let outcome):
            do {
                result = try instance.completeAsync(call: call, outcome: outcome, now: now)
            } catch {
                return
            }
        case .idle(let persist, let eventGeneration):
            guard eventGeneration == generation else { return }
            if persist {
                _ = await save(.keepLock)
            } else if await save(.unlock) {
                host.report(.unloaded(instance: id.uuidString, nextTimer: instance.state.nextTimer?.iso8601))
                drop()
            }
            return
        case .shutdown(let reply):
            shuttingDown = reply
            if instance.state.canPersist { await unloadForShutdown() }
            return
        }
        generation += 1
        cancelTimers()
        for line in result.lines { host.report(.line(instance: id.uuidString, text: line)) }
        await perform(InstanceLifecycle.actions(after: result, options: options), result: result)
    }

    private func perform(_ actions: [InstanceLifecycle.Action], result: RunResult) async {
        for action in actions {
            switch action {
            case .save(let lockAction, let acknowledge):
                guard await save(lockAction) else { return }
                if result.status.isFinal { host.report(.finished(instance: id.uuidString, state: instance.state)) }
                if acknowledge {
                    let next = instance.acknowledgePersist(now: .now)
                    for line in next.lines { host.report(.line(instance: id.uuidString, text: line)) }
                    await perform(InstanceLifecycle.actions(after: next, options: options), result: next)
                    return
                }
            case .startAsync(let calls):
                for call in calls { startAsync(call) }
            case .armTimer(let due):
                timerTask = Task { [weak self] in
                    let wait = max(0, due.millisecondsSinceEpoch - Instant.now.millisecondsSinceEpoch)
                    try? await Task.sleep(for: .milliseconds(wait))
                    guard !Task.isCancelled else { return }
                    self?.send(.timers)
                }
            case .armIdlePolicy(let persistAfter, let unloadAfter):
                let current = generation
                if let persistAfter, persistAfter < unloadAfter {
                    idleTasks.append(idleTask(after: persistAfter, persist: true, current))
                }
                idleTasks.append(idleTask(after: unloadAfter, persist: false, current))
            case .drop:
                if result.status == .idle {
                    host.report(.unloaded(instance: id.uuidString, nextTimer: instance.state.nextTimer?.iso8601))
                }
                drop()
            }
        }
        if shuttingDown != nil && instance.state.canPersist && !dropped { await unloadForShutdown() }
    }

    private func idleTask(after delay: Duration, persist: Bool, _ generation: Int) -> Task<Void, Never> {
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            self?.send(.idle(persist: persist, generation: generation))
        }
    }

    private func startAsync(_ call: AsyncCall) {
        guard case .async(let body)? = instance.definition.registry[call.activity] else {
            send(
                .asyncCompleted(call: call.call, outcome: .failure("no async custom activity named '\(call.activity)'"))
            )
            return
        }
        Task { [weak self] in
            let outcome: InvokeOutcome
            do {
                outcome = .success(try await body(call.input))
            } catch let error as InvokeError {
                outcome = .failure(error.message)
            } catch {
                outcome = .failure("\(error)")
            }
            self?.send(.asyncCompleted(call: call.call, outcome: outcome))
        }
    }

    /// Saves the instance; on a lost lock or a newer version in the store, drops it without
    /// touching the stored state. Returns whether the save succeeded.
    private func save(_ lockAction: SaveLockAction) async -> Bool {
        let snapshot = instance.state.snapshot(suspended: suspended)
        do {
            let saved = try await host.save(
                id: id, expectedVersion: version, snapshot: snapshot, consumed: consumedMessageIDs,
                lockAction: lockAction)
            version = saved.version
            consumedMessageIDs = []
            host.report(.persisted(instance: id.uuidString, version: version))
            return true
        } catch {
            host.report(.abandoned(instance: id.uuidString, reason: "\(error)"))
            drop()
            return false
        }
    }

    private func unloadForShutdown() async {
        cancelTimers()
        let saved = instance.state.status.isFinal ? true : await save(.unlock)
        if saved { drop() }
    }

    private func cancelTimers() {
        timerTask?.cancel()
        timerTask = nil
        for task in idleTasks { task.cancel() }
        idleTasks = []
    }

    private func drop() {
        guard !dropped else { return }
        dropped = true
        cancelTimers()
        events.finish()
        shuttingDown?(.success(instance.state))
        host.forget(id, self)
    }

    /// Stops working on the instance without saving: its lock was lost.
    func abandon() {
        drop()
    }
}
