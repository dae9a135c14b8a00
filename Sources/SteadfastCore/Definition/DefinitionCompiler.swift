/// Checks an activity tree against the definition's variables, keys and registry, and compiles
/// it into ``Node``s. Collects every problem rather than stopping at the first.
struct DefinitionCompiler {
    var problems: [DefinitionProblem] = []
    private let variables: [String: JSONValue]
    private let keys: [String]
    private let registry: ActivityRegistry?
    private var noPersistDepth = 0
    private var activityDepth = 0

    init(variables: [String: JSONValue], keys: [String], registry: ActivityRegistry?) {
        self.variables = variables
        self.keys = keys
        self.registry = registry
    }

    mutating func checkHeader(name: String, version: String, promote: [String] = []) {
        if name.trimmingWhitespace().isEmpty { problem("", field: "name", "must not be empty") }
        if version.trimmingWhitespace().isEmpty { problem("", field: "version", "must not be empty") }
        checkVariableList(keys, field: "keys")
        checkVariableList(promote, field: "promote")
        for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
            if let tooDeep = value.depthProblem("the initial value of '\(name)'") {
                problem("", field: "variables.\(name)", tooDeep)
            }
        }
    }

    /// Each name must be a declared variable, listed once.
    private mutating func checkVariableList(_ names: [String], field: String) {
        var seen: Set<String> = []
        for (index, name) in names.enumerated() {
            if variables[name] == nil {
                problem(
                    "", field: "\(field)[\(index)]",
                    "'\(name)' is not a declared variable; declare it under \"variables\"")
            }
            if !seen.insert(name).inserted { problem("", field: "\(field)[\(index)]", "'\(name)' is listed twice") }
        }
    }

    mutating func compile(_ activity: Activity, path: String) -> Node? {
        let here = "\(path).\(activity.kind)"
        guard activityDepth < WorkflowLimits.maxActivityDepth else {
            problem(
                here,
                "activities nest deeper than \(WorkflowLimits.maxActivityDepth) levels here: flatten the definition")
            return nil
        }
        activityDepth += 1
        defer { activityDepth -= 1 }
        let kind: Node.Kind?
        switch activity {
        case .sequence(let items):
            let children = items.enumerated().map { compile($1, path: "\(here)[\($0)]") }
            kind = children.allSatisfy { $0 != nil } ? .sequence(children.compactMap { $0 }) : nil
        case .parallel(let items):
            let children = items.enumerated().map { compile($1, path: "\(here)[\($0)]") }
            kind = children.allSatisfy { $0 != nil } ? .parallel(children.compactMap { $0 }) : nil
        case .assign(let to, let value):
            let target = assignmentTarget(to, at: here, field: "to")
            let expression = expression(value, at: here, field: "value")
            kind = target.flatMap { target in expression.map { .assign(target, $0) } }
        case .if(let condition, let then, let otherwise):
            let test = expression(condition, at: here, field: "condition")
            let thenNode = compile(then, path: "\(here).then")
            let elseNode = otherwise.map { compile($0, path: "\(here).else") }
            if let test, let thenNode, elseNode == nil || elseNode! != nil {
                kind = .ifElse(test, then: thenNode, else: elseNode ?? nil)
            } else {
                kind = nil
            }
        case .while(let condition, let body):
            let test = expression(condition, at: here, field: "condition")
            let bodyNode = compile(body, path: "\(here).body")
            kind = test.flatMap { test in bodyNode.map { .whileLoop(test, body: $0) } }
        case .delay where noPersistDepth > 0:
            problem(
                here,
                "a delay cannot wait inside a noPersist scope: the instance would stay in memory, unsaved, until it "
                    + "fires, and no host could stop in time; move the delay after the scope")
            kind = nil
        case .receive where noPersistDepth > 0:
            problem(
                here,
                "a receive cannot wait inside a noPersist scope: the instance would stay in memory, unsaved, until "
                    + "the message comes, and no host could stop in time; move the receive after the scope")
            kind = nil
        case .delay(.duration(let text)):
            switch ISODuration.parse(text) {
            case .success(let duration): kind = .delay(.duration(duration))
            case .failure(let error):
                problem(here, field: "duration", error.message)
                kind = nil
            }
        case .delay(.until(let text)):
            kind = expression(text, at: here, field: "until").map { .delay(.until($0)) }
        case .persist:
            if noPersistDepth > 0 {
                problem(here, "a persist cannot run inside a noPersist scope: move it after the scope")
            }
            kind = .persist
        case .receive(let receive):
            kind = compileReceive(receive, at: here)
        case .pick(let branches):
            var compiled: [Node.PickBranch] = []
            for (index, branch) in branches.enumerated() {
                let branchPath = "\(here)[\(index)]"
                switch branch.trigger {
                case .receive, .delay: break
                default:
                    problem(
                        "\(branchPath).trigger",
                        "a pick trigger must be a receive or a delay, not a \(branch.trigger.kind)")
                }
                let trigger = compile(branch.trigger, path: "\(branchPath).trigger")
                let action = branch.action.map { compile($0, path: "\(branchPath).action") }
                if let trigger, action == nil || action! != nil {
                    compiled.append(Node.PickBranch(trigger: trigger, action: action ?? nil))
                }
            }
            if branches.isEmpty { problem(here, "a pick needs at least one branch") }
            kind = compiled.count == branches.count && !branches.isEmpty ? .pick(compiled) : nil
        case .writeLine(let text):
            kind = expression(text, at: here, field: "text").map { .writeLine($0) }
        case .invoke(let invoke):
            kind = compileInvoke(invoke, at: here)
        case .terminate(let reason):
            kind = expression(reason, at: here, field: "reason").map { .terminate($0) }
        case .throw(let message):
            kind = expression(message, at: here, field: "message").map { .throwFault($0) }
        case .tryCatch(let tryBody, let catchBody, let errorTo):
            let tryNode = compile(tryBody, path: "\(here).try")
            let catchNode = compile(catchBody, path: "\(here).catch")
            let target = errorTo.map { assignmentTarget($0, at: here, field: "errorTo") }
            if let tryNode, let catchNode, target == nil || target! != nil {
                kind = .tryCatch(try: tryNode, catch: catchNode, errorTo: target ?? nil)
            } else {
                kind = nil
            }
        case .noPersist(let body):
            noPersistDepth += 1
            let bodyNode = compile(body, path: "\(here).body")
            noPersistDepth -= 1
            kind = bodyNode.map { .noPersist($0) }
        }
        return kind.map { Node(path: here, kind: $0) }
    }

    private mutating func compileReceive(_ receive: Activity.Receive, at here: String) -> Node.Kind? {
        var valid = true
        if receive.operation.trimmingWhitespace().isEmpty {
            problem(here, field: "operation", "must name the operation the message is sent to")
            valid = false
        }
        if let key = receive.correlateOn, !keys.contains(key) {
            let declared = keys.isEmpty ? "none are declared" : "the keys are \(keys.joined(separator: ", "))"
            problem(here, field: "correlateOn", "'\(key)' is not one of the definition's \"keys\" (\(declared))")
            valid = false
        }
        let target = receive.assignTo.map { assignmentTarget($0, at: here, field: "assignTo") }
        guard valid, target == nil || target! != nil else { return nil }
        return .receive(
            Node.ReceiveSpec(
                operation: receive.operation, correlateOn: receive.correlateOn,
                createsInstance: receive.createsInstance,
                assignTo: target ?? nil))
    }

    private mutating func compileInvoke(_ invoke: Activity.Invoke, at here: String) -> Node.Kind? {
        var valid = true
        if let registry, registry[invoke.activity] == nil {
            let known =
                registry.names.isEmpty ? "none are registered" : "registered: \(registry.names.joined(separator: ", "))"
            problem(here, field: "activity", "no custom activity named '\(invoke.activity)' (\(known))")
            valid = false
        }
        let input = invoke.input.map { expression($0, at: here, field: "input") }
        let target = invoke.assignTo.map { assignmentTarget($0, at: here, field: "assignTo") }
        guard valid, input == nil || input! != nil, target == nil || target! != nil else { return nil }
        return .invoke(name: invoke.activity, input: input ?? nil, assignTo: target ?? nil)
    }

    /// A receive that creates instances must be what the workflow runs first: the body itself,
    /// the first activity of a leading sequence, or a trigger of a leading pick.
    mutating func checkCreatesInstancePlacement(_ body: Activity) {
        var allowed: Set<String> = []
        func markLeading(_ activity: Activity, path: String) {
            let here = "\(path).\(activity.kind)"
            switch activity {
            case .receive: allowed.insert(here)
            case .sequence(let items): if let first = items.first { markLeading(first, path: "\(here)[0]") }
            case .pick(let branches):
                for (index, branch) in branches.enumerated() {
                    markLeading(branch.trigger, path: "\(here)[\(index)].trigger")
                }
            default: break
            }
        }
        markLeading(body, path: "body")
        func check(_ activity: Activity, path: String) {
            let here = "\(path).\(activity.kind)"
            switch activity {
            case .receive(let receive) where receive.createsInstance && !allowed.contains(here):
                problem(
                    here, field: "createsInstance",
                    "a receive that creates instances must be the first activity the workflow runs (or a trigger of a leading pick)"
                )
            case .sequence(let items), .parallel(let items):
                for (index, item) in items.enumerated() { check(item, path: "\(here)[\(index)]") }
            case .if(_, let then, let otherwise):
                check(then, path: "\(here).then")
                if let otherwise { check(otherwise, path: "\(here).else") }
            case .while(_, let body): check(body, path: "\(here).body")
            case .noPersist(let body): check(body, path: "\(here).body")
            case .pick(let branches):
                for (index, branch) in branches.enumerated() {
                    check(branch.trigger, path: "\(here)[\(index)].trigger")
                    if let action = branch.action { check(action, path: "\(here)[\(index)].action") }
                }
            case .tryCatch(let tryBody, let catchBody, _):
                check(tryBody, path: "\(here).try")
                check(catchBody, path: "\(here).catch")
            default: break
            }
        }
        check(body, path: "body")
    }

    private mutating func expression(_ source: String, at path: String, field: String) -> WorkflowExpression? {
        let parsed: WorkflowExpression
        do {
            parsed = try WorkflowExpression(source)
        } catch {
            let shown = source.count > 80 ? source.prefix(80) + "…" : source[...]
            problem(path, field: field, column: error.column, "\(error.message) in '\(shown)'")
            return nil
        }
        var valid = true
        for reference in parsed.variableReferences where variables[reference.name] == nil {
            problem(path, field: field, column: reference.column, unknownVariable(reference.name))
            valid = false
        }
        return valid ? parsed : nil
    }

    private mutating func assignmentTarget(_ source: String, at path: String, field: String) -> AssignmentTarget? {
        let target: AssignmentTarget
        do {
            target = try AssignmentTarget(source)
        } catch {
            problem(path, field: field, column: error.column, error.message)
            return nil
        }
        guard variables[target.variable] != nil else {
            problem(path, field: field, column: 1, unknownVariable(target.variable))
            return nil
        }
        var references: [(String, Int)] = []
        for case .index(let node) in target.steps { node.collectVariables(into: &references) }
        for (name, column) in references where variables[name] == nil {
            problem(path, field: field, column: column, unknownVariable(name))
            return nil
        }
        return target
    }

    private func unknownVariable(_ name: String) -> String {
        let declared = variables.keys.sorted()
        let list = declared.isEmpty ? "no variables are declared" : "declared: \(declared.joined(separator: ", "))"
        return "unknown variable '\(name)' (\(list)); declare it under \"variables\""
    }

    private mutating func problem(_ path: String, field: String? = nil, column: Int? = nil, _ message: String) {
        problems.append(DefinitionProblem(path: path, field: field, column: column, message: message))
    }
}
