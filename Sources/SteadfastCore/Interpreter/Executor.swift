/// Runs an activity tree from its frames until every branch is blocked (on a bookmark, a timer,
/// a persist point or an async call), completed, faulted or terminated.
///
/// It never waits and does no I/O: events (messages, fired timers, async results, persist
/// acknowledgements) are written into the frame tree by ``WorkflowInstance`` before a run, and
/// the run picks them up. Re-running a blocked frame that received no event is a no-op.
struct Executor {
    enum Step {
        case done
        case blocked(Frame)
        case faulted(WorkflowFault)
        /// Ends the instance; tryCatch does not catch it.
        case terminated(String)
        /// A fault that tryCatch must not catch (the step limit).
        case aborted(WorkflowFault)
    }

    var context: EvaluationContext
    let registry: ActivityRegistry
    var nextCallID: Int
    var remainingSteps: Int
    let tracing: Bool
    var lines: [String] = []
    var trace: [TraceEvent] = []
    var asyncStarts: [AsyncCall] = []

    mutating func run(_ node: Node, _ frame: Frame?) -> Step {
        if frame == nil {
            remainingSteps -= 1
            if remainingSteps < 0 {
                return .aborted(
                    WorkflowFault(
                        message: "the step limit of one run was reached: is there a loop that never waits or ends?",
                        activityPath: node.path))
            }
            record(node, .started)
        }
        let step = execute(node, frame)
        switch step {
        case .done: record(node, .completed)
        case .faulted(let fault) where fault.activityPath == node.path: record(node, .faulted)
        default: break
        }
        return step
    }

    private mutating func record(_ node: Node, _ kind: TraceEvent.Kind) {
        if tracing { trace.append(TraceEvent(path: node.path, kind: kind)) }
    }

    private func fault(_ node: Node, _ message: String) -> Step {
        .faulted(WorkflowFault(message: message, activityPath: node.path))
    }

    private mutating func execute(_ node: Node, _ frame: Frame?) -> Step {
        switch node.kind {
        case .sequence(let children):
            var index = 0
            var child: Frame?
            if case .sequence(let current, let running) = frame { (index, child) = (current, running) }
            while index < children.count {
                switch run(children[index], child) {
                case .done: (index, child) = (index + 1, nil)
                case .blocked(let blocked): return .blocked(.sequence(index: index, child: blocked))
                case let ended: return ended
                }
            }
            return .done

        case .parallel(let children):
            var branches: [Frame?]
            if case .parallel(let running) = frame { branches = running } else { branches = [] }
            let starting = branches.isEmpty
            if starting { branches = Array(repeating: nil, count: children.count) }
            for index in children.indices where starting || branches[index] != nil {
                switch run(children[index], branches[index]) {
                case .done: branches[index] = nil
                case .blocked(let blocked): branches[index] = blocked
                case let ended: return ended
                }
            }
            return branches.allSatisfy { $0 == nil } ? .done : .blocked(.parallel(branches: branches))

        case .assign(let target, let value):
            do {
                try target.assign(try value.evaluate(in: context), in: &context)
                return .done
            } catch {
                return fault(node, "assign to '\(target.source)' failed: \(error.message)")
            }

        case .ifElse(let condition, let then, let otherwise):
            var branch: Int
            var child: Frame?
            if case .ifElse(let current, let running) = frame {
                (branch, child) = (current, running)
            } else {
                switch evaluate(condition, node) {
                case .success(let value): branch = value.isTruthy ? 0 : 1
                case .failure(let failure): return failure.step
                }
            }
            guard let chosen = branch == 0 ? then : otherwise else { return .done }
            switch run(chosen, child) {
            case .blocked(let blocked): return .blocked(.ifElse(branch: branch, child: blocked))
            case let ended: return ended
            }

        case .whileLoop(let condition, let body):
            var child: Frame?
            if case .whileBody(let running) = frame { child = running }
            while true {
                if child == nil {
                    switch evaluate(condition, node) {
                    case .success(let value): if !value.isTruthy { return .done }
                    case .failure(let failure): return failure.step
                    }
                }
                switch run(body, child) {
                case .done: child = nil
                case .blocked(let blocked): return .blocked(.whileBody(child: blocked))
                case let ended: return ended
                }
            }

        case .delay(let time):
            if case .delay(let due, let fired) = frame {
                return fired ? .done : .blocked(.delay(due: due, fired: false))
            }
            switch time {
            case .duration(let duration): return .blocked(.delay(due: duration.added(to: context.now), fired: false))
            case .until(let expression):
                switch evaluate(expression, node) {
                case .success(let value):
                    do {
                        return .blocked(.delay(due: try ExpressionFunction.instant(value), fired: false))
                    } catch {
                        return fault(node, "the delay's 'until' gave no time: \(error.message)")
                    }
                case .failure(let failure): return failure.step
                }
            }

        case .persist:
            if case .persist(acknowledged: true) = frame { return .done }
            return .blocked(.persist(acknowledged: false))

        case .receive(let spec):
            guard case .receive(let message?) = frame else { return .blocked(.receive(message: nil)) }
            do {
                if spec.createsInstance, let key = spec.correlateOn, let value = message[key], value != .null {
                    context.variables[key] = value
                }
                try spec.assignTo?.assign(message, in: &context)
                return .done
            } catch {
                return fault(node, "storing the message for '\(spec.operation)' failed: \(error.message)")
            }

        case .pick(let branches):
            switch frame {
            case .pickAction(let winner, let child):
                guard let action = branches[winner].action else { return .done }
                return continuePick(winner: winner, action: action, child)
            default:
                var waiting: [Frame?] = Array(repeating: nil, count: branches.count)
                if case .pick(let triggers) = frame { waiting = triggers }
                var blocked: [Frame] = []
                for index in branches.indices {
                    switch run(branches[index].trigger, waiting[index]) {
                    case .done:
                        for other in branches.indices where other != index {
                            record(branches[other].trigger, .canceled)
                        }
                        guard let action = branches[index].action else { return .done }
                        return continuePick(winner: index, action: action, nil)
                    case .blocked(let trigger): blocked.append(trigger)
                    case let ended: return ended
                    }
                }
                return .blocked(.pick(triggers: blocked))
            }

        case .writeLine(let text):
            switch evaluateText(text, node) {
            case .success(let value):
                lines.append(value)
                return .done
            case .failure(let failure): return failure.step
            }

        case .invoke(let name, let inputExpression, let target):
            return invoke(node, name: name, inputExpression, target, frame)

        case .terminate(let reason):
            switch evaluateText(reason, node) {
            case .success(let value): return .terminated(value)
            case .failure(let failure): return failure.step
            }

        case .throwFault(let message):
            switch evaluateText(message, node) {
            case .success(let value): return fault(node, value)
            case .failure(let failure): return failure.step
            }

        case .tryCatch(let tryNode, let catchNode, let errorTo):
            if case .catchBody(let child) = frame { return runCatch(catchNode, child) }
            var child: Frame?
            if case .tryBody(let running) = frame { child = running }
            switch run(tryNode, child) {
            case .blocked(let blocked): return .blocked(.tryBody(child: blocked))
            case .faulted(let caught):
                if let errorTo {
                    do {
                        try errorTo.assign(caught.jsonValue, in: &context)
                    } catch {
                        return fault(node, "storing the caught fault in '\(errorTo.source)' failed: \(error.message)")
                    }
                }
                return runCatch(catchNode, nil)
            case let ended: return ended
            }

        case .noPersist(let body):
            var child: Frame?
            if case .noPersist(let running) = frame { child = running }
            switch run(body, child) {
            case .blocked(let blocked): return .blocked(.noPersist(child: blocked))
            case let ended: return ended
            }
        }
    }

    private mutating func continuePick(winner: Int, action: Node, _ child: Frame?) -> Step {
        switch run(action, child) {
        case .blocked(let blocked): return .blocked(.pickAction(winner: winner, child: blocked))
        case let ended: return ended
        }
    }

    private mutating func runCatch(_ catchNode: Node, _ child: Frame?) -> Step {
        switch run(catchNode, child) {
        case .blocked(let blocked): return .blocked(.catchBody(child: blocked))
        case let ended: return ended
        }
    }

    private mutating func invoke(
        _ node: Node, name: String, _ inputExpression: WorkflowExpression?, _ target: AssignmentTarget?, _ frame: Frame?
    ) -> Step {
        let result: InvokeOutcome
        if case .asyncInvoke(let call, let input, let outcome) = frame {
            guard let outcome else { return .blocked(.asyncInvoke(call: call, input: input, outcome: nil)) }
            result = outcome
        } else {
            var input = JSONValue.null
            if let inputExpression {
                switch evaluate(inputExpression, node) {
                case .success(let value): input = value
                case .failure(let failure): return failure.step
                }
            }
            switch registry[name] {
            case nil:
                return fault(node, "no custom activity named '\(name)' is registered on this host")
            case .async:
                let call = nextCallID
                nextCallID += 1
                asyncStarts.append(AsyncCall(call: call, activity: name, input: input, activityPath: node.path))
                return .blocked(.asyncInvoke(call: call, input: input, outcome: nil))
            case .sync(let body):
                do {
                    result = .success(try body(input))
                } catch let error as InvokeError {
                    result = .failure(error.message)
                } catch {
                    result = .failure("\(error)")
                }
            }
        }
        switch result {
        case .failure(let message): return fault(node, "custom activity '\(name)' failed: \(message)")
        case .success(let value):
            do {
                try target?.assign(value, in: &context)
                return .done
            } catch {
                return fault(node, "storing the result of '\(name)' failed: \(error.message)")
            }
        }
    }

    private struct EvaluationFailure: Error {
        var step: Step
    }

    private func evaluate(_ expression: WorkflowExpression, _ node: Node) -> Result<JSONValue, EvaluationFailure> {
        do {
            return .success(try expression.evaluate(in: context))
        } catch {
            return .failure(EvaluationFailure(step: fault(node, "'\(expression.source)': \(error.message)")))
        }
    }

    /// The expression's value as text (`string()`'s rules), refused past the string limit.
    private func evaluateText(_ expression: WorkflowExpression, _ node: Node) -> Result<String, EvaluationFailure> {
        do {
            return .success(try expression.evaluate(in: context).text(limit: WorkflowLimits.maxStringLength))
        } catch {
            return .failure(EvaluationFailure(step: fault(node, "'\(expression.source)': \(error.message)")))
        }
    }
}
