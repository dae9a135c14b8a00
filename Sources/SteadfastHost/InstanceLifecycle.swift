import Foundation
import SteadfastCore
import SteadfastStore

/// The life cycle of one loaded instance, as a state machine without I/O: events in, actions
/// out. It holds everything the host decides by — the interpreter, the stored version, whether
/// the instance is suspended, its inbox in arrival order and what was applied since the last
/// save, the idle-policy generation, whether the host is shutting down — and takes the time as
/// a parameter. The host (``HostedInstance``) carries the actions out, one event at a time.
///
/// loaded ─run─▶ persist point ─save(keep lock)─▶ acknowledged ─run─▶ …
///                idle ─▶ arm its timer; persist after timeToPersist; unload after timeToUnload
///                suspended ─save(unlock)─▶ dropped;  finished ─save(complete)─▶ dropped
///
/// A `.save` action is always the last of the actions one call returns: the host performs it
/// and answers with `.saved` or `.saveFailed`, and the machine goes on from there.
struct InstanceLifecycle {
    enum Event: Sendable {
        /// Take these inbox entries (known ones are ignored), run what can run, apply the inbox,
        /// fire due timers. How a new or just-loaded instance starts.
        case wake([InboxEntry])
        /// The armed timer is due.
        case timerFired
        case asyncCompleted(call: Int, outcome: InvokeOutcome)
        /// The idle policy's deadline, for the generation it was armed in.
        case idleTimeout(persist: Bool, generation: Int)
        /// Save and unlock as soon as the instance can be saved, then drop it.
        case shutdown
        /// The save asked for succeeded.
        case saved(version: Int64)
        /// The save asked for failed: the instance is no longer this host's to run.
        case saveFailed
        /// The save asked for was refused because of what it would write (the state exceeds the
        /// engine's or the store's limits): the instance faults with the reason, and that is
        /// saved instead (without its variables, if they are what is too large).
        case saveRefused(reason: String)
    }

    enum Action: Equatable, Sendable {
        /// Save ``snapshot`` with ``settledEntries``; answer with `.saved` or `.saveFailed`.
        case save(SaveLockAction)
        case startAsync([AsyncCall])
        /// Send `.timerFired` at this time.
        case armTimer(Instant)
        /// Send `.idleTimeout(persist: true, generation:)` after `persistAfter` (when set) and
        /// `.idleTimeout(persist: false, generation:)` after `unloadAfter`.
        case armIdlePolicy(persistAfter: Duration?, unloadAfter: Duration, generation: Int)
        /// Cancel the armed timer and idle deadlines.
        case cancelTimers
        /// A line the workflow wrote.
        case line(String)
        /// An inbox entry that will never be applied, and why.
        case rejected(entry: Int64, reason: String)
        case persisted(version: Int64)
        case unloaded(nextTimer: Instant?)
        case finished(InstanceState)
        /// Release the lock without saving, marking this `abandon` entry (if any) applied; then
        /// `.drop` follows. What was not saved is discarded: the instance goes on from its last
        /// save.
        case release(abandonEntry: Int64?)
        /// Forget the instance: it is saved (or no longer this host's).
        case drop
    }

    /// What to do once the save asked for is done.
    private enum AfterSave {
        /// Acknowledge persist points, then go on.
        case acknowledge
        /// Go on with these actions.
        case then([Action])
        case unloaded
        case completed
    }

    private(set) var instance: WorkflowInstance
    /// The stored version the next save must name.
    private(set) var version: Int64
    private(set) var suspended: Bool
    /// Entries applied or rejected since the last save; the next save settles them.
    private(set) var applied: [Int64] = []
    private(set) var rejected: [Int64: String] = [:]
    /// Messages whose body cannot be read, since the last save; the next save marks them poison.
    private(set) var poisoned: [Int64: String] = [:]
    /// Pending entries not applied yet, in arrival order.
    private var inbox: [InboxEntry] = []
    /// Every entry id taken, so one delivered twice (load and poll) is applied once.
    private var known: Set<Int64> = []
    private var generation = 0
    private var shuttingDown = false
    private(set) var dropped = false
    /// How many saves were refused for what they would write (the instance then faulted).
    private var refusals = 0
    private var afterSave: AfterSave?
    private let options: HostOptions
    /// What happened since the last save, for the instance's history; the next save takes it.
    private(set) var tracking: InstanceTracking

    /// `loadedAt`: when the instance was loaded from the store (nil for one just created).
    init(
        instance: WorkflowInstance, version: Int64, suspended: Bool, options: HostOptions, loadedAt: Instant? = nil
    ) {
        var instance = instance
        let profile = options.tracking(for: instance.definition.identity)
        instance.tracing = profile == .full
        self.instance = instance
        self.version = version
        self.suspended = suspended
        self.options = options
        tracking = InstanceTracking(profile: profile, hostID: options.hostID, state: instance.state)
        if let loadedAt { tracking.record(.loaded, at: loadedAt, ["host": .string(options.hostID)]) }
    }

    /// Tracks what a run of the instance did, and passes its result on.
    private mutating func tracked(_ result: RunResult, now: Instant) -> RunResult {
        tracking.run(result, state: instance.state, now: now)
        return result
    }

    /// Fires the due timers (tracked).
    private mutating func fireDueTimers(now: Instant) -> RunResult {
        tracking.timersFiring(instance.state, now: now)
        return tracked(instance.resumeDueTimers(now: now), now: now)
    }

    /// What a save writes now; a `state-too-large` error when the state exceeds the engine's
    /// limits (the store refuses a state over its size limit the same way, on save).
    func snapshot() throws(WorkflowError) -> InstanceSnapshot { try instance.snapshot(suspended: suspended) }

    mutating func handle(_ event: Event, now: Instant) -> [Action] {
        guard !dropped else { return [] }
        switch event {
        case .wake(let entries):
            take(entries)
            return advance(suspended ? instance.currentResult : tracked(instance.run(now: now), now: now), now: now)
        case .timerFired:
            guard !suspended else { return [] }
            return advance(fireDueTimers(now: now), now: now)
        case .asyncCompleted(let call, let outcome):
            // A suspended instance records the result and runs on only when unsuspended.
            guard let result = try? instance.completeAsync(call: call, outcome: outcome, now: now, runOn: !suspended)
            else { return [] }
            return advance(tracked(result, now: now), now: now)
        case .idleTimeout(let persist, let eventGeneration):
            guard eventGeneration == generation, afterSave == nil else { return [] }
            return save(persist ? .keepLock : .unlock, then: persist ? .then([]) : .unloaded, now: now)
        case .shutdown:
            shuttingDown = true
            return unloadForShutdown(now: now) ?? []
        case .saved(let newVersion):
            version = newVersion
            tracking.saved()
            applied = []
            rejected = [:]
            poisoned = [:]
            let next = afterSave
            afterSave = nil
            var actions: [Action] = [.persisted(version: newVersion)]
            switch next {
            case .acknowledge?: actions += advance(tracked(instance.acknowledgePersist(now: now), now: now), now: now)
            case .then(let more)?: actions += more + (unloadForShutdown(now: now) ?? [])
            case .unloaded?: actions += [.unloaded(nextTimer: instance.state.nextTimer), .drop]
            case .completed?: actions += [.finished(instance.state), .drop]
            case nil: break
            }
            if actions.contains(.drop) { dropped = true }
            return actions
        case .saveFailed:
            dropped = true
            return [.cancelTimers, .drop]
        case .saveRefused(let reason):
            tracking.saveRefused()
            refusals += 1
            switch refusals {
            case 1: _ = instance.fault("its state cannot be saved: \(reason)")
            case 2:
                // The faulted state is still refused: its variables are what is too large.
                let first = instance.state.fault?.message ?? "its state cannot be saved: \(reason)"
                _ = instance.fault(first + "; its variables were dropped to save the fault", keepingVariables: false)
            default:
                // Refused even without variables: give the lock back unsaved.
                dropped = true
                return [.cancelTimers, .release(abandonEntry: nil), .drop]
            }
            return [.cancelTimers] + save(.complete, then: .completed, now: now)
        }
    }

    // MARK: Running

    /// Applies the inbox in arrival order, one entry at a time, and fires due timers, until
    /// nothing more can happen now; a persist point reached on the way is saved before more
    /// work goes on. Then decides what the instance needs.
    private mutating func advance(_ first: RunResult, now: Instant) -> [Action] {
        // An abandon discards everything not saved, whatever else waits: release at once.
        if let abandon = inbox.first(where: { $0.command == .abandon }) {
            dropped = true
            return [.cancelTimers, .release(abandonEntry: abandon.id), .drop]
        }
        var result = first
        while true {
            if !suspended && !inbox.isEmpty && result.persistRequested && result.canPersist
                && !result.status.isFinal
            {
                // What follows a persist point runs only after a durable save.
                return lines(of: result) + save(.keepLock, then: .acknowledge, now: now)
            }
            if let step = applyNextEntry(now: now) {
                result.append(step.result)
                if let rejection = step.rejection { pendingReports.append(rejection) }
                continue
            }
            if !suspended && !instance.state.status.isFinal && instance.state.timers.contains(where: { $0.due <= now })
            {
                result.append(fireDueTimers(now: now))
                continue
            }
            return finish(result, now: now)
        }
    }

    /// Rejections to report with the next lines.
    private var pendingReports: [Action] = []

    /// Applies the first entry that can be applied now: a control command at once; a message
    /// when the instance is not suspended and a Receive takes it (else it waits). Nil when none.
    private mutating func applyNextEntry(now: Instant) -> (result: RunResult, rejection: Action?)? {
        guard !instance.state.status.isFinal else { return nil }
        for (index, entry) in inbox.enumerated() {
            var result = instance.currentResult
            var rejection: Action?
            switch entry.command {
            case .suspend:
                if !suspended { tracking.record(.suspended, at: now, ["entry": .number(Double(entry.id))]) }
                suspended = true
            case .unsuspend:
                if suspended {
                    suspended = false
                    tracking.record(.unsuspended, at: now, ["entry": .number(Double(entry.id))])
                    result = tracked(instance.run(now: now), now: now)
                }
            case .terminate(let reason):
                result = tracked(instance.terminate(reason: reason), now: now)
            case .cancel(let reason):
                result = tracked(instance.cancel(reason: reason), now: now)
            case .abandon:
                continue  // handled before any entry is applied (see advance)
            case .message(let operation, let body):
                guard !suspended, instance.state.bookmarks.contains(where: { $0.operation == operation }) else {
                    continue
                }
                let message: JSONValue
                switch Result(catching: { () throws(WorkflowError) in try Self.readBody(body, for: operation) }) {
                case .success(let body): message = body
                case .failure(let error):
                    // A poison message: never applied, and never delivered as something else.
                    poisoned[entry.id] = error.message
                    inbox.remove(at: index)
                    return (result, .rejected(entry: entry.id, reason: "poison: \(error.message)"))
                }
                do {
                    let resumed = try instance.resume(operation: operation, message: message, now: now)
                    tracking.detail(
                        .bookmarkResumed, at: now,
                        ["operation": .string(operation), "entry": .number(Double(entry.id)), "message": message])
                    result = tracked(resumed, now: now)
                } catch {
                    rejected[entry.id] = error.message
                    rejection = .rejected(entry: entry.id, reason: error.message)
                }
            }
            if rejection == nil { applied.append(entry.id) }
            inbox.remove(at: index)
            return (result, rejection)
        }
        return nil
    }

    /// A message's body, refused when it is not JSON or nests past the engine's limits.
    private static func readBody(_ body: Data, for operation: String) throws(WorkflowError) -> JSONValue {
        let message = try JSONValue.parse(body, what: "the message for '\(operation)'")
        if let tooDeep = message.depthProblem("the message for '\(operation)'") {
            throw WorkflowError(.stateTooLarge, tooDeep)
        }
        return message
    }

    /// Adds entries not taken before, keeping arrival order.
    private mutating func take(_ entries: [InboxEntry]) {
        let new = entries.filter { $0.state == .pending && known.insert($0.id).inserted }
        guard !new.isEmpty else { return }
        inbox = (inbox + new).sorted { $0.id < $1.id }
    }

    /// What the instance needs after a run: a new idle generation, and the actions of
    /// ``decide(_:)``.
    private mutating func finish(_ result: RunResult, now: Instant) -> [Action] {
        generation += 1
        return [.cancelTimers] + lines(of: result) + decide(result, now: now)
    }

    private mutating func lines(of result: RunResult) -> [Action] {
        let reports = pendingReports
        pendingReports = []
        return reports + result.lines.map(Action.line)
    }

    private mutating func decide(_ result: RunResult, now: Instant) -> [Action] {
        if result.status.isFinal { return save(.complete, then: .completed, now: now) }
        var actions: [Action] = []
        if !result.asyncCalls.isEmpty { actions.append(.startAsync(result.asyncCalls)) }
        guard result.canPersist else {
            // Inside a no-persist zone nothing is saved; a timer still fires while loaded.
            if result.status == .idle, !suspended, let due = result.nextTimer { actions.append(.armTimer(due)) }
            return actions
        }
        if suspended {
            // Nothing runs while suspended, a persist point included: unload; unsuspending
            // loads it again and goes on from there.
            return actions + save(.unlock, then: .unloaded, now: now)
        }
        if result.persistRequested { return actions + save(.keepLock, then: .acknowledge, now: now) }
        if let unload = unloadForShutdown(now: now) { return actions + unload }
        // A timer due within the lookahead fires from memory: unloading the instance and
        // detecting it again would only make the timer late.
        let imminent = result.nextTimer.map { $0 <= now.adding(options.timerLookahead) }
        if result.status == .idle && options.timeToUnload == .zero && imminent != true {
            return actions + save(.unlock, then: .unloaded, now: now)
        }
        var later: [Action] = []
        if result.status == .idle {
            if let due = result.nextTimer { later.append(.armTimer(due)) }
            if options.timeToUnload > .zero {
                later.append(
                    .armIdlePolicy(
                        persistAfter: options.timeToPersist.flatMap { $0 < options.timeToUnload ? $0 : nil },
                        unloadAfter: options.timeToUnload, generation: generation))
            }
        }
        // Entries applied since the last save are settled by a save right away.
        if !applied.isEmpty || !rejected.isEmpty || !poisoned.isEmpty {
            return actions + save(.keepLock, then: .then(later), now: now)
        }
        return actions + later
    }

    /// Saving for a shutdown, once the instance can be saved; nil when not shutting down or not
    /// possible yet.
    private mutating func unloadForShutdown(now: Instant) -> [Action]? {
        guard shuttingDown, !dropped, afterSave == nil, instance.state.canPersist else { return nil }
        if instance.state.status.isFinal {
            dropped = true
            return [.cancelTimers, .drop]
        }
        return [.cancelTimers] + save(.unlock, then: .unloaded, now: now)
    }

    private mutating func save(_ lockAction: SaveLockAction, then next: AfterSave, now: Instant) -> [Action] {
        afterSave = next
        tracking.saving(lockAction, state: instance.state, now: now)
        return [.save(lockAction)]
    }
}
