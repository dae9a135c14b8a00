import Foundation
import SteadfastCore
import SteadfastStore

/// One instance loaded on this host: carries out what its ``InstanceLifecycle`` decides.
/// Events for it are queued and handled one at a time by a single task, so inbox entries,
/// timers and async results for one instance never race, while different instances run in
/// parallel. The decisions are all in the state machine; here are only the store calls, the
/// sleeps and the tasks, each cancelled when the instance is dropped, so none outlives it.
actor HostedInstance {
    let id: UUID
    let definition: DefinitionIdentity
    private var lifecycle: InstanceLifecycle
    private var timerTask: Task<Void, Never>?
    private var idleTasks: [Task<Void, Never>] = []
    private var asyncTasks: [Int: Task<Void, Never>] = [:]
    private var shutdownReplies: [@Sendable () -> Void] = []
    private let events: AsyncStream<Event>.Continuation
    private let host: WorkflowHost

    enum Event: Sendable {
        case lifecycle(InstanceLifecycle.Event)
        /// Save and unlock as soon as possible, then call `reply`.
        case shutdown(reply: @Sendable () -> Void)
    }

    /// `loaded`: it was loaded from the store (its history records the load), not just created.
    init(
        id: UUID, instance: WorkflowInstance, version: Int64, suspended: Bool, host: WorkflowHost, options: HostOptions,
        loaded: Bool = false
    ) {
        self.id = id
        self.definition = instance.definition.identity
        self.lifecycle = InstanceLifecycle(
            instance: instance, version: version, suspended: suspended, options: options,
            loadedAt: loaded ? host.now : nil)
        self.host = host
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self)
        self.events = continuation
        Task { await self.process(stream) }
    }

    /// Queues a lifecycle event (ignored once the instance is dropped: its inbox entries stay
    /// stored for the next host that loads the instance).
    nonisolated func send(_ event: InstanceLifecycle.Event) {
        events.yield(.lifecycle(event))
    }

    /// Asks the instance to save and unlock; `reply` is called once it is dropped.
    nonisolated func shutdown(reply: @escaping @Sendable () -> Void) {
        if case .terminated = events.yield(.shutdown(reply: reply)) { reply() }
    }

    private func process(_ stream: AsyncStream<Event>) async {
        for await event in stream {
            switch event {
            case .lifecycle(let event):
                guard await leaseAllowsWork(for: event) else { continue }
                await perform(lifecycle.handle(event, now: host.now))
            case .shutdown(let reply):
                guard !lifecycle.dropped else {
                    reply()
                    continue
                }
                shutdownReplies.append(reply)
                await perform(lifecycle.handle(.shutdown, now: host.now))
            }
        }
        for reply in shutdownReplies { reply() }
    }

    /// Whether `event` can be handled now: one that may run the workflow (a wake, a timer, an
    /// async result) waits for ``waitForSafeLease()``; the others go on unless the instance was
    /// dropped meanwhile.
    private func leaseAllowsWork(for event: InstanceLifecycle.Event) async -> Bool {
        switch event {
        case .wake, .timerFired, .asyncCompleted: await waitForSafeLease()
        case .idleTimeout, .shutdown, .saved, .saveFailed, .saveRefused: !lifecycle.dropped
        }
    }

    /// Waits until the host's lock is valid by the safety margin (renewing it if need be); false
    /// when the instance is dropped first (the host abandons it once the lock is found lost).
    private func waitForSafeLease() async -> Bool {
        if host.leaseIsSafe { return true }
        while !lifecycle.dropped {
            if await host.leaseAllowsWork() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Carries out actions; a save's outcome goes back to the machine, whose answer is carried
    /// out in turn.
    private func perform(_ first: [InstanceLifecycle.Action]) async {
        var actions = first
        while !actions.isEmpty {
            var next: [InstanceLifecycle.Action] = []
            for action in actions {
                switch action {
                case .save(let lockAction):
                    next = lifecycle.handle(await save(lockAction), now: host.now)
                case .startAsync(let calls):
                    for call in calls { startAsync(call) }
                case .armTimer(let due):
                    let host = self.host
                    timerTask = Task { [weak self] in
                        let wait = max(0, due.millisecondsSinceEpoch - host.now.millisecondsSinceEpoch)
                        try? await Task.sleep(for: .milliseconds(wait))
                        guard !Task.isCancelled else { return }
                        HostMetrics.timerFired(
                            late: .milliseconds(host.now.millisecondsSinceEpoch - due.millisecondsSinceEpoch))
                        self?.send(.timerFired)
                    }
                case .armIdlePolicy(let persistAfter, let unloadAfter, let generation):
                    if let persistAfter { idleTasks.append(idleTask(after: persistAfter, persist: true, generation)) }
                    idleTasks.append(idleTask(after: unloadAfter, persist: false, generation))
                case .cancelTimers:
                    cancelTimers()
                case .line(let text):
                    host.report(.line(instance: id.uppercasedText, text: text), definition: definition)
                case .rejected(let entry, let reason):
                    host.report(
                        .rejected(instance: id.uppercasedText, entry: entry, reason: reason), definition: definition)
                case .persisted(let version):
                    host.report(.persisted(instance: id.uppercasedText, version: version), definition: definition)
                case .unloaded(let nextTimer):
                    host.report(
                        .unloaded(instance: id.uppercasedText, nextTimer: nextTimer?.iso8601), definition: definition)
                case .finished(let state):
                    host.report(.finished(instance: id.uppercasedText, state: state), definition: definition)
                case .release(let entry):
                    await host.release(self, settling: entry)
                case .drop:
                    drop()
                }
            }
            actions = next
        }
    }

    /// Saves what the machine holds; the outcome as the machine's next event.
    private func save(_ lockAction: SaveLockAction) async -> InstanceLifecycle.Event {
        let snapshot: InstanceSnapshot
        do {
            snapshot = try lifecycle.snapshot()
        } catch {
            return .saveRefused(reason: error.message)
        }
        let began = ContinuousClock.now
        do {
            let saved = try await host.save(
                self, expectedVersion: lifecycle.version, snapshot: snapshot, applied: lifecycle.applied,
                rejected: lifecycle.rejected, poison: lifecycle.poisoned, lockAction: lockAction,
                history: lifecycle.tracking.events)
            HostMetrics.saved("saved", after: ContinuousClock.now - began)
            // What follows a persist point runs only while the lease is safe, like any work.
            if lockAction == .keepLock, !(await waitForSafeLease()) { return .saveFailed }
            return .saved(version: saved.version)
        } catch let error as InstanceStoreError where error.code == .stateTooLarge {
            HostMetrics.saved("refused", after: ContinuousClock.now - began)
            return .saveRefused(reason: error.message)  // nothing written; the lock is still held
        } catch {
            HostMetrics.saved("failed", after: ContinuousClock.now - began)
            host.report(.abandoned(instance: id.uppercasedText, reason: "\(error)"), definition: definition)
            return .saveFailed
        }
    }

    private func idleTask(after delay: Duration, persist: Bool, _ generation: Int) -> Task<Void, Never> {
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            guard !Task.isCancelled else { return }
            self?.send(.idleTimeout(persist: persist, generation: generation))
        }
    }

    /// Runs an async custom activity; its task is cancelled when the instance is dropped.
    private func startAsync(_ call: AsyncCall) {
        guard case .async(let body)? = lifecycle.instance.definition.registry[call.activity] else {
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

    private func cancelTimers() {
        timerTask?.cancel()
        timerTask = nil
        for task in idleTasks { task.cancel() }
        idleTasks = []
    }

    private func drop() {
        cancelTimers()
        for task in asyncTasks.values { task.cancel() }
        asyncTasks = [:]
        events.finish()
        host.forget(id, self)
    }

    /// Stops working on the instance without saving: its lock was lost, or the host stopped.
    func abandon() {
        guard !lifecycle.dropped else { return }
        _ = lifecycle.handle(.saveFailed, now: host.now)
        drop()
    }
}
