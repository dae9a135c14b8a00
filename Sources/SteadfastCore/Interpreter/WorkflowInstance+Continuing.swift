extension WorkflowInstance {
    /// An instance that goes on from a saved state: the same instance put back to an earlier
    /// state (a rewind), a new instance started from it (a fork, with another `instanceID` and
    /// some variables set), or either of them moved onto `target`, another version of its
    /// definition.
    ///
    /// `state` must fit `source`, the exact definition it was saved under. A move onto another
    /// version is made only where the two are compatible at the point the instance is at: every
    /// running activity exists at the same position in `target`, with the same kind; each open
    /// bookmark waits there for the same operation, correlated the same way; each pending
    /// async call invokes the same activity; and every variable the instance holds is declared
    /// by `target` (variables `target` adds start at its defaults). Otherwise the move is
    /// refused with an `incompatibleDefinition` error naming the first difference. What lies
    /// ahead of the running activities may differ freely: that is what a new version fixes. A
    /// pending timer keeps the due time it was set with.
    public init(
        continuing state: InstanceState, of source: WorkflowDefinition, under target: WorkflowDefinition? = nil,
        as instanceID: String? = nil, setting changes: [String: JSONValue] = [:]
    ) throws(WorkflowError) {
        var moved = try WorkflowInstance(definition: source, state: state).state
        let target = target ?? source
        if target.identity != source.identity {
            try Self.checkCompatible(moved, from: source, to: target)
            moved.definition = target.identity
            moved.variables.merge(target.variables) { held, _ in held }
        }
        let unknown = changes.keys.filter { target.variables[$0] == nil }.sorted()
        guard unknown.isEmpty else {
            throw WorkflowError(
                .invalidInput,
                "'\(target.name)' version \(target.version) does not declare "
                    + unknown.map { "'\($0)'" }.joined(separator: ", "))
        }
        for (name, value) in changes.sorted(by: { $0.key < $1.key }) {
            if let problem = value.depthProblem("the variable '\(name)'") {
                throw WorkflowError(.invalidInput, problem)
            }
            moved.variables[name] = value
        }
        if let instanceID { moved.instanceID = instanceID }
        try self.init(definition: target, recomputing: moved)
    }

    /// Throws `incompatibleDefinition`, naming the first difference, unless `state` (which fits
    /// `source`) can go on under `target`.
    private static func checkCompatible(
        _ state: InstanceState, from source: WorkflowDefinition, to target: WorkflowDefinition
    ) throws(WorkflowError) {
        func refuse(_ difference: String) -> WorkflowError {
            WorkflowError(
                .incompatibleDefinition,
                "instance \(state.instanceID) cannot move from \(source.identity) to \(target.identity) at the point "
                    + "it is at: \(difference)")
        }
        guard source.name == target.name else {
            throw refuse("'\(target.name)' is another workflow, not a version of '\(source.name)'")
        }
        if let undeclared = state.variables.keys.sorted().first(where: { target.variables[$0] == nil }) {
            throw refuse("it holds the variable '\(undeclared)', which version \(target.version) does not declare")
        }
        let keyed = { (definition: WorkflowDefinition) in
            definition.keys.filter { (state.variables[$0] ?? definition.variables[$0] ?? .null) != .null }.sorted()
        }
        if keyed(source) != keyed(target) {
            throw refuse(
                "it is correlated on \(keyed(source)) in version \(source.version), but would be on \(keyed(target)) in "
                    + "version \(target.version)")
        }
        guard let execution = state.execution else { return }
        // One walk, depth first: where the frame does not fit the new version, or what a
        // running activity waits for (or chose already) differs, whichever comes first.
        func receive(_ node: Node) -> String {
            guard case .receive(let spec) = node.kind else { return "a \(node.kindName)" }
            return "'\(spec.operation)'\(spec.correlateOn.map { " on \($0)" } ?? "")"
                + (spec.createsInstance ? " (creating instances)" : "")
        }
        func compare(_ frame: Frame, _ old: Node, _ new: Node) throws(WorkflowError) {
            do {
                try FrameValidator.checkHere(frame, against: new)
            } catch {
                throw refuse(
                    "at \(error.path), where an activity runs in version \(source.version), version \(target.version) "
                        + "differs: \(error.detail)")
            }
            switch (old.kind, new.kind, frame) {
            case (.receive, .receive, .receive(nil)) where receive(old) != receive(new):
                throw refuse(
                    "the open bookmark at \(old.path) waits for \(receive(old)) in version \(source.version), but for "
                        + "\(receive(new)) in version \(target.version)")
            case (.invoke(let was, _, _), .invoke(let now, _, _), .asyncInvoke) where was != now:
                throw refuse(
                    "the async call at \(old.path) runs '\(was)' in version \(source.version), but '\(now)' in version "
                        + "\(target.version)")
            case (.pick(let was), .pick(let now), .pickAction(let winner, _))
            where receive(was[winner].trigger) != receive(now[winner].trigger):
                throw refuse(
                    "the pick at \(old.path) went on with branch \(winner), taken by \(receive(was[winner].trigger)) in "
                        + "version \(source.version), but by \(receive(now[winner].trigger)) in version \(target.version)"
                )
            case (.tryCatch(_, _, let was), .tryCatch(_, _, let now), .catchBody) where was?.source != now?.source:
                throw refuse(
                    "the catch at \(old.path) runs with the fault in '\(was?.source ?? "nothing")' in version "
                        + "\(source.version), but in '\(now?.source ?? "nothing")' in version \(target.version)")
            default:
                for ((oldChild, child), (newChild, _)) in zip(frame.children(of: old), frame.children(of: new)) {
                    try compare(child, oldChild, newChild)
                }
            }
        }
        try compare(execution, source.root, target.root)
    }
}
