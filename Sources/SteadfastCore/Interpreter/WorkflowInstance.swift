import Foundation

/// A workflow instance: a definition plus the state of one run of it.
///
/// A pure state machine: each method takes an event (start, a message, the time, an async
/// result, a persist acknowledgement) and the current time, runs the instance as far as it can
/// go without waiting, and returns a ``RunResult`` telling the host what to do next. It never
/// reads a clock, sleeps or does I/O.
///
/// Serialize ``state`` at any idle point or persist point and load it into a fresh instance
/// with ``init(definition:state:)``: it goes on exactly as if it had never stopped.
public struct WorkflowInstance: Sendable {
    public let definition: WorkflowDefinition
    public private(set) var state: InstanceState
    /// Record started/completed/faulted activities in each ``RunResult/trace``.
    public var tracing = false
    /// How many activities one run may start before the instance is faulted as a runaway loop.
    public var stepLimit = 1_000_000

    /// A new instance. `input` sets declared variables; an undeclared name is an error.
    public init(definition: WorkflowDefinition, instanceID: String, input: [String: JSONValue] = [:])
        throws(WorkflowError)
    {
        var variables = definition.variables
        let unknown = input.keys.filter { variables[$0] == nil }.sorted()
        guard unknown.isEmpty else {
            let declared = definition.variables.keys.sorted().joined(separator: ", ")
            throw WorkflowError(
                .invalidInput,
                "the input sets \(unknown.map { "'\($0)'" }.joined(separator: ", ")), which '\(definition.name)' does not declare (declared: \(declared))"
            )
        }
        for (name, value) in input.sorted(by: { $0.key < $1.key }) {
            if let problem = value.depthProblem("the input variable '\(name)'") {
                throw WorkflowError(.invalidInput, problem)
            }
        }
        variables.merge(input) { _, given in given }
        self.definition = definition
        self.state = InstanceState(
            format: InstanceState.currentFormat, instanceID: instanceID, definition: definition.identity,
            status: .running,
            variables: variables, keys: [:], bookmarks: [], timers: [], execution: nil, started: false,
            persistPending: false, canPersist: true, nextCallID: 0, fault: nil, terminationReason: nil)
        refreshDerivedState()
    }

    /// Loads a saved state. Fails if it was saved under another definition identity (the error
    /// names both) or does not fit the definition.
    public init(definition: WorkflowDefinition, state: InstanceState) throws(WorkflowError) {
        guard state.definition == definition.identity else {
            let why =
                state.definition.name == definition.name && state.definition.version == definition.version
                ? ": the definition was changed without a new version; give the changed definition a new version and keep the old one for its instances"
                : ": host the definition the instance was started with"
            throw WorkflowError(
                .definitionMismatch,
                "instance \(state.instanceID) was saved under definition \(state.definition), not \(definition.identity)\(why)"
            )
        }
        if let execution = state.execution { try FrameValidator.validate(execution, against: definition.root) }
        self.definition = definition
        self.state = state
        refreshDerivedState()
        guard self.state == state else {
            throw WorkflowError(
                .corruptState,
                "instance \(state.instanceID)'s saved bookmarks, timers, keys or flags disagree with its execution state"
            )
        }
    }

    /// Loads a state whose bookmarks, timers, keys and flags are recomputed from its frames and
    /// variables rather than checked (see ``init(continuing:of:under:as:setting:)``).
    init(definition: WorkflowDefinition, recomputing state: InstanceState) throws(WorkflowError) {
        if let execution = state.execution { try FrameValidator.validate(execution, against: definition.root) }
        self.definition = definition
        self.state = state
        refreshDerivedState()
    }

    /// Decodes and loads an encoded state (see ``InstanceState/encoded()``).
    public init(definition: WorkflowDefinition, encodedState: Data) throws(WorkflowError) {
        try self.init(definition: definition, state: try InstanceState.decode(encodedState))
    }

    // MARK: Events

    /// Starts the instance, or goes on with whatever it can do now.
    public mutating func run(now: Instant) -> RunResult {
        guard !state.status.isFinal else { return result(of: nil) }
        state.started = true
        var executor = Executor(
            context: EvaluationContext(variables: state.variables, now: now), registry: definition.registry,
            nextCallID: state.nextCallID, remainingSteps: stepLimit, tracing: tracing)
        let step = executor.run(definition.root, state.execution)
        state.variables = executor.context.variables
        state.nextCallID = executor.nextCallID
        state.execution = nil
        switch step {
        case .done: state.status = .completed
        case .blocked(let frame): state.execution = frame
        case .faulted(let fault), .aborted(let fault):
            state.status = .faulted
            state.fault = fault
        case .terminated(let reason):
            state.status = .terminated
            state.terminationReason = reason
        }
        refreshDerivedState()
        return result(of: executor)
    }

    /// Delivers a message to the first open bookmark (in document order) for `operation`.
    ///
    /// For a correlated receive, the message body's field named by `correlateOn` must match the
    /// instance's key of that name, if it has one.
    public mutating func resume(operation: String, message: JSONValue, now: Instant) throws(WorkflowError) -> RunResult
    {
        try requireRunnable(for: "deliver a message for '\(operation)'")
        var problem: WorkflowError?
        let variables = state.variables
        let instanceID = state.instanceID
        let delivered = rewriteFirst { node, frame in
            guard case .receive(let spec) = node.kind, spec.operation == operation, case .receive(nil) = frame else {
                return nil
            }
            if let key = spec.correlateOn {
                let given = message[key]
                let current = variables[key] ?? .null
                if given == nil && spec.createsInstance {
                    problem = WorkflowError(
                        .invalidInput,
                        "the message for '\(operation)' must have a field '\(key)' to set the instance's key")
                } else if let given, current != .null, given != current {
                    problem = WorkflowError(
                        .correlationMismatch,
                        "the message for '\(operation)' has \(key) = \(given.jsonText), but instance \(instanceID) has \(key) = \(current.jsonText)"
                    )
                }
            }
            return problem == nil ? .receive(message: message) : frame
        }
        if let problem { throw problem }
        guard delivered else {
            let open = state.bookmarks.map(\.operation)
            throw WorkflowError(
                .noSuchBookmark,
                "instance \(state.instanceID) is not waiting for '\(operation)'"
                    + (open.isEmpty
                        ? " (it waits for no message)"
                        : "; it waits for \(open.map { "'\($0)'" }.joined(separator: ", "))"))
        }
        return run(now: now)
    }

    /// Fires every timer due at or before `now`, earliest first, running the instance after each.
    public mutating func resumeDueTimers(now: Instant) -> RunResult {
        var combined = result(of: nil)
        while !state.status.isFinal, let next = state.timers.filter({ $0.due <= now }).min(by: { $0.due < $1.due }) {
            _ = rewriteFirst { node, frame in
                guard node.path == next.activityPath, case .delay(let due, false) = frame, due == next.due else {
                    return nil
                }
                return .delay(due: due, fired: true)
            }
            combined.append(run(now: now))
        }
        return combined
    }

    /// Delivers the outcome of an async custom activity started in an earlier run, and runs on
    /// unless `runOn` is false (a suspended instance records it and runs on when resumed).
    public mutating func completeAsync(
        call: Int, outcome: InvokeOutcome, now: Instant, runOn: Bool = true
    ) throws(WorkflowError) -> RunResult {
        try requireRunnable(for: "complete async call \(call)")
        let delivered = rewriteFirst { _, frame in
            guard case .asyncInvoke(call, let input, nil) = frame else { return nil }
            return .asyncInvoke(call: call, input: input, outcome: outcome)
        }
        guard delivered else {
            throw WorkflowError(
                .noSuchAsyncCall, "instance \(state.instanceID) has no async call \(call) waiting for its result")
        }
        guard runOn else {
            refreshDerivedState()
            return result(of: nil)
        }
        return run(now: now)
    }

    /// Tells the instance its persist points were saved durably; what follows them may now run.
    public mutating func acknowledgePersist(now: Instant) -> RunResult {
        guard state.persistPending else { return run(now: now) }
        if let execution = state.execution {
            state.execution = execution.rewritingAll(node: definition.root) { _, frame in
                if case .persist(acknowledged: false) = frame { return .persist(acknowledged: true) }
                return nil
            }
        }
        return run(now: now)
    }

    /// Cancels the instance: every running activity stops and the status becomes `canceled`.
    public mutating func cancel(reason: String? = nil) -> RunResult {
        end(as: .canceled, reason: reason)
    }

    /// What the instance reports now, without running it (for a suspended instance, say).
    public var currentResult: RunResult { result(of: nil) }

    /// Terminates the instance with a reason.
    public mutating func terminate(reason: String) -> RunResult {
        end(as: .terminated, reason: reason)
    }

    /// Faults the instance from outside, for a reason the host found (its state cannot be
    /// saved, say); with `keepingVariables` false its variables are dropped too, so the faulted
    /// state is small enough to save.
    /// An instance that ended but was never saved so (its final state was refused) faults too.
    public mutating func fault(_ message: String, keepingVariables: Bool = true) -> RunResult {
        state = state.ended(as: .faulted, reason: nil)
        state.status = .faulted
        state.terminationReason = nil
        state.fault = WorkflowFault(message: message, activityPath: "")
        if !keepingVariables { state.variables = [:] }
        refreshDerivedState()
        return result(of: nil)
    }

    // MARK: Internals

    private mutating func end(as status: InstanceStatus, reason: String?) -> RunResult {
        state = state.ended(as: status, reason: reason)
        refreshDerivedState()
        return result(of: nil)
    }

    private func requireRunnable(for action: String) throws(WorkflowError) {
        guard !state.status.isFinal else {
            throw WorkflowError(
                .notRunnable, "cannot \(action): instance \(state.instanceID) is \(state.status.rawValue)")
        }
    }

    /// Replaces the first frame in document order for which `replace` returns a frame.
    private mutating func rewriteFirst(_ replace: (Node, Frame) -> Frame?) -> Bool {
        guard let execution = state.execution else { return false }
        var replaced = false
        state.execution = execution.rewritingAll(node: definition.root) { node, frame in
            guard !replaced, let replacement = replace(node, frame) else { return nil }
            replaced = true
            return replacement
        }
        return replaced
    }

    /// Recomputes bookmarks, timers, keys and flags from the frames and variables.
    private mutating func refreshDerivedState() {
        var bookmarks: [Bookmark] = []
        var timers: [PendingTimer] = []
        var persistPending = false
        var canPersist = true
        var asyncPending = false
        state.execution?.forEach(node: definition.root) { node, frame in
            switch (node.kind, frame) {
            case (.receive(let spec), .receive(nil)):
                bookmarks.append(
                    Bookmark(
                        operation: spec.operation, correlateOn: spec.correlateOn, createsInstance: spec.createsInstance,
                        activityPath: node.path))
            case (.delay, .delay(let due, false)): timers.append(PendingTimer(due: due, activityPath: node.path))
            case (_, .persist(false)): persistPending = true
            case (_, .noPersist): canPersist = false
            case (_, .asyncInvoke):
                canPersist = false
                asyncPending = true
            default: break
            }
        }
        state.bookmarks = bookmarks
        state.timers = timers
        state.persistPending = persistPending
        state.canPersist = canPersist
        state.keys = [:]
        for key in definition.keys {
            if let value = state.variables[key], value != .null { state.keys[key] = value }
        }
        if state.started && !state.status.isFinal {
            state.status = persistPending || asyncPending ? .running : .idle
        }
    }

    private func result(of executor: Executor?) -> RunResult {
        RunResult(
            status: state.status, bookmarks: state.bookmarks, nextTimer: state.nextTimer,
            persistRequested: state.persistPending, canPersist: state.canPersist,
            asyncCalls: executor?.asyncStarts ?? [],
            lines: executor?.lines ?? [], outputs: state.status == .completed ? state.variables : nil,
            fault: state.fault,
            terminationReason: state.terminationReason, trace: executor?.trace ?? [])
    }
}

extension Frame {
    /// This frame tree with `replace` applied to every frame, pre-order: where it returns a
    /// frame, that frame takes the place of the subtree.
    func rewritingAll(node: Node, _ replace: (Node, Frame) -> Frame?) -> Frame {
        if let replacement = replace(node, self) { return replacement }
        return mapChildren(of: node) { childNode, childFrame in childFrame.rewritingAll(node: childNode, replace) }
    }
}
