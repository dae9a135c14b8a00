import Foundation
import SteadfastCore
import SteadfastStore

/// One instance loaded on this host. Events for it are queued and handled one at a time by a
/// single task, so inbox entries, timers and async results for one instance never race, while
/// different instances run in parallel.
actor HostedInstance {
    enum Event: Sendable {
        /// Take these inbox entries (those already known are ignored), run whatever can run now,
        /// apply the inbox in order, fire due timers; then decide once. This is how a new or
        /// just-loaded instance starts, so nothing is decided (an unload, say) before its
        /// waiting entries and timers were applied.
        case wake([InboxEntry])
        case timers
        case asyncCompleted(call: Int, outcome: InvokeOutcome)
        case idle(persist: Bool, generation: Int)
        case shutdown(reply: @Sendable () -> Void)
    }

    let id: UUID
    private var instance: WorkflowInstance
    private var version: Int64
    private var suspended: Bool
    /// Pending inbox entries not applied yet, in arrival (id) order.
    private var inbox: [InboxEntry] = []
    /// Every entry id this copy has taken, so one delivered twice (load and poll) is applied once.
    private var known: Set<Int64> = []
    /// Entries applied or rejected since the last save; the next save settles them.
    private var applied: [Int64] = []
    private var rejected: [Int64: String] = [:]
    private var generation = 0
    private var timerTask: Task<Void, Never>?
    private var idleTasks: [Task<Void, Never>] = []
    private var asyncTasks: [Int: Task<Void, Never>] = [:]
    private var shuttingDown: (@Sendable () -> Void)?
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

    /// Queues an event; an event for a dropped instance is answered at once (a shutdown) or
    /// ignored (its inbox entries stay stored for the next host that loads the instance).
    nonisolated func send(_ event: Event) {
        if case .terminated = events.yield(event), case .shutdown(let reply) = event {
            reply()
        }
    }

    private func process(_ stream: AsyncStream<Event>) async {
        for await event in stream {
            if dropped {
                if case .shutdown(let reply) = event { reply() }
            } else {
                await handle(event)
            }
        }
    }

    private func handle(_ event: Event) async {
        let now = host.now
        var result: RunResult
        switch event {
        case .wake(let entries):
            take(entries)
            if suspended {
                result = instance.currentResult
            } else {
                result = instance.run(now: now)
                // A state saved at a persist point goes on only after a durable save: do that
                // before the inbox, which may hold messages for what comes after it.
                guard await savePersistPoints(&result, now: now, before: !inbox.isEmpty) else { return }
            }
            guard await applyInbox(&result, now: now) else { return }
            if !suspended { result.append(instance.resumeDueTimers(now: now)) }
        case .timers:
            guard !suspended else { return }
            result = instance.resumeDueTimers(now: now)
            // A timer may open the Receive a waiting message is for.
            guard await applyInbox(&result, now: now) else { return }
        case .asyncCompleted(let call, let outcome):
            asyncTasks[call] = nil
            do {
                // A suspended instance records the result and runs on only when unsuspended.
                result = try instance.completeAsync(call: call, outcome: outcome, now: now, runOn: !suspended)
            } catch {
                return
            }
            guard await applyInbox(&result, now: now) else { return }
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
        await perform(lifecycleActions(after: result), result: result)
    }

    private func lifecycleActions(after result: RunResult) -> [InstanceLifecycle.Action] {
        InstanceLifecycle.actions(
            after: result, suspended: suspended, unsavedInbox: !applied.isEmpty || !rejected.isEmpty, options: options)
    }

    /// Adds entries this copy has not seen, keeping arrival order.
    private func take(_ entries: [InboxEntry]) {
        let new = entries.filter { $0.state == .pending && known.insert($0.id).inserted }
        guard !new.isEmpty else { return }
        inbox = (inbox + new).sorted { $0.id < $1.id }
    }

    /// Applies the inbox in arrival order, one entry at a time. A message waits while the
    /// instance is suspended or has no open Receive for it; a control command applies at once.
    /// After each message the scan starts over, so a message that waited is applied as soon as
    /// its Receive opens. Returns false if the instance was dropped (a save failed).
    private func applyInbox(_ result: inout RunResult, now: Instant) async -> Bool {
        var index = 0
        while index < inbox.count, !instance.state.status.isFinal {
            let entry = inbox[index]
            switch entry.command {
            case .suspend:
                suspended = true
                cancelTimers()
            case .unsuspend:
                let wasSuspended = suspended
                suspended = false
                if wasSuspended {
                    result.append(instance.run(now: now))
                    result.append(instance.resumeDueTimers(now: now))
                }
            case .terminate(let reason):
                result.append(instance.terminate(reason: reason))
            case .cancel(let reason):
                result.append(instance.cancel(reason: reason))
            case .message(let operation, let body):
                guard !suspended, instance.state.bookmarks.contains(where: { $0.operation == operation }) else {
                    index += 1
                    continue
                }
                do {
                    let message = try JSONValue.parse(body, what: "the message for '\(operation)'")
                    result.append(try instance.resume(operation: operation, message: message, now: now))
                } catch {
                    rejected[entry.id] = error.message
                    host.report(.rejected(instance: id.uuidString, entry: entry.id, reason: error.message))
                    inbox.remove(at: index)
                    index = 0
                    continue
                }
            }
            if rejected[entry.id] == nil { applied.append(entry.id) }
            inbox.remove(at: index)
            index = 0
            guard await savePersistPoints(&result, now: now, before: true) else { return false }
        }
        return true
    }

    /// Saves and acknowledges persist points while `before` more work (the inbox) waits, so what
    /// follows a persist point runs only after a durable save. False if the save failed.
    private func savePersistPoints(_ result: inout RunResult, now: Instant, before: Bool) async -> Bool {
        while before && !suspended && result.persistRequested && result.canPersist && !result.status.isFinal {
            guard await save(.keepLock) else { return false }
            result.append(instance.acknowledgePersist(now: now))
        }
        return true
    }

    private func perform(_ actions: [InstanceLifecycle.Action], result: RunResult) async {
        for action in actions {
            switch action {
            case .save(let lockAction, let acknowledge):
                guard await save(lockAction) else { return }
                if result.status.isFinal { host.report(.finished(instance: id.uuidString, state: instance.state)) }
                if acknowledge {
                    var next = instance.acknowledgePersist(now: host.now)
                    guard await applyInbox(&next, now: host.now) else { return }
                    for line in next.lines { host.report(.line(instance: id.uuidString, text: line)) }
                    await perform(lifecycleActions(after: next), result: next)
                    return
                }
            case .startAsync(let calls):
                for call in calls { startAsync(call) }
            case .armTimer(let due):
                let host = self.host
                timerTask = Task { [weak self] in
                    let wait = max(0, due.millisecondsSinceEpoch - host.now.millisecondsSinceEpoch)
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
                if !result.status.isFinal {
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

    /// Runs an async custom activity; its task is cancelled when the instance is dropped, so none
    /// outlives the host's shutdown.
    private func startAsync(_ call: AsyncCall) {
        guard case .async(let body)? = instance.definition.registry[call.activity] else {
            send(
                .asyncCompleted(call: call.call, outcome: .failure("no async custom activity named '\(call.activity)'"))
            )
            return
        }
        asyncTasks[call.call] = Task { [weak self] in
            let outcome: InvokeOutcome
            do {
                outcome = .success(try await body(call.input))
            } catch let error as InvokeError {
                outcome = .failure(error.message)
            } catch {
                outcome = .failure("\(error)")
            }
            guard !Task.isCancelled else { return }
            self?.send(.asyncCompleted(call: call.call, outcome: outcome))
        }
    }

    /// Saves the instance with the inbox entries settled since the last save; on a lost lock or
    /// a newer version in the store, drops it without touching the stored state. Returns whether
    /// the save succeeded.
    private func save(_ lockAction: SaveLockAction) async -> Bool {
        let snapshot = instance.snapshot(suspended: suspended)
        do {
            let saved = try await host.save(
                self, expectedVersion: version, snapshot: snapshot, applied: applied, rejected: rejected,
                lockAction: lockAction)
            version = saved.version
            applied = []
            rejected = [:]
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
        for task in asyncTasks.values { task.cancel() }
        asyncTasks = [:]
        events.finish()
        shuttingDown?()
        host.forget(id, self)
    }

    /// Stops working on the instance without saving: its lock was lost.
    func abandon() {
        drop()
    }
}
