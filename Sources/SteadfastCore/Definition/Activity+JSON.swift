/// Reading and writing activities in the JSON definition format: each activity is an object
/// with one key naming its kind (`{"delay": {"duration": "PT1H"}}`).
extension Activity {
    /// The JSON form of this activity.
    public var jsonValue: JSONValue {
        func fields(_ pairs: [(String, String?)]) -> JSONValue {
            .object(
                Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, .string($0)) } }))
        }
        let body: JSONValue
        switch self {
        case .sequence(let items), .parallel(let items): body = .array(items.map(\.jsonValue))
        case .assign(let to, let value): body = fields([("to", to), ("value", value)])
        case .if(let condition, let then, let otherwise):
            var object: [String: JSONValue] = ["condition": .string(condition), "then": then.jsonValue]
            if let otherwise { object["else"] = otherwise.jsonValue }
            body = .object(object)
        case .while(let condition, let loopBody):
            body = .object(["condition": .string(condition), "body": loopBody.jsonValue])
        case .delay(.duration(let duration)): body = fields([("duration", duration)])
        case .delay(.until(let until)): body = fields([("until", until)])
        case .persist: body = .object([:])
        case .receive(let receive):
            guard
                case .object(var object) = fields([
                    ("operation", receive.operation), ("correlateOn", receive.correlateOn),
                    ("assignTo", receive.assignTo),
                ])
            else { preconditionFailure("fields() builds an object") }
            if receive.createsInstance { object["createsInstance"] = .bool(true) }
            body = .object(object)
        case .pick(let branches):
            body = .array(
                branches.map { branch in
                    var object: [String: JSONValue] = ["trigger": branch.trigger.jsonValue]
                    if let action = branch.action { object["action"] = action.jsonValue }
                    return .object(object)
                }
            )
        case .writeLine(let text): body = fields([("text", text)])
        case .invoke(let invoke):
            body = fields([("activity", invoke.activity), ("input", invoke.input), ("assignTo", invoke.assignTo)])
        case .terminate(let reason): body = fields([("reason", reason)])
        case .throw(let message): body = fields([("message", message)])
        case .tryCatch(let tryBody, let catchBody, let errorTo):
            var object: [String: JSONValue] = ["try": tryBody.jsonValue, "catch": catchBody.jsonValue]
            if let errorTo { object["errorTo"] = .string(errorTo) }
            body = .object(object)
        case .noPersist(let scoped): body = .object(["body": scoped.jsonValue])
        }
        return .object([kind: body])
    }

    /// Reads an activity from its JSON form, adding every problem found to `problems`.
    /// Parts that cannot be read become empty sequences, so the rest of the tree keeps its
    /// paths and can still be checked; the result is only usable when `problems` stays empty.
    static func decode(_ value: JSONValue, path: String, problems: inout [DefinitionProblem]) -> Activity {
        var reader = ActivityReader(path: path)
        let activity = reader.activity(value)
        problems += reader.problems
        return activity ?? .sequence([])
    }
}

/// Walks a JSON activity tree, collecting problems instead of stopping at the first one.
private struct ActivityReader {
    var problems: [DefinitionProblem] = []
    var path: String

    static let kinds = [
        "sequence", "parallel", "assign", "if", "while", "delay", "persist", "receive", "pick", "writeLine", "invoke",
        "terminate", "throw", "tryCatch", "noPersist",
    ]

    mutating func problem(_ message: String, field: String? = nil) {
        problems.append(DefinitionProblem(path: path, field: field, message: message))
    }

    mutating func activity(_ value: JSONValue) -> Activity? {
        guard case .object(let object) = value, object.count == 1, let (kind, body) = object.first else {
            problem(
                "an activity must be an object with exactly one key naming its kind (\(Self.kinds.joined(separator: ", ")))"
            )
            return nil
        }
        guard Self.kinds.contains(kind) else {
            let suggestion =
                Self.kinds.first { $0.lowercased() == kind.lowercased() }.map { "; did you mean '\($0)'?" } ?? ""
            problem("unknown activity kind '\(kind)'\(suggestion)")
            return nil
        }
        let parent = path
        path = parent.isEmpty ? kind : "\(parent).\(kind)"
        defer { path = parent }
        switch kind {
        case "sequence", "parallel":
            guard case .array(let items) = body else {
                problem("'\(kind)' takes an array of activities")
                return nil
            }
            let children = items.enumerated().map { index, item in child(item, suffix: "[\(index)]") }
            return kind == "sequence" ? .sequence(children) : .parallel(children)
        case "pick":
            guard case .array(let items) = body, !items.isEmpty else {
                problem("'pick' takes a non-empty array of branches {\"trigger\": …, \"action\": …}")
                return nil
            }
            var branches: [Activity.PickBranch] = []
            for (index, item) in items.enumerated() {
                let branchPath = "\(path)[\(index)]"
                guard
                    let fields = self.fields(
                        item, allowed: ["trigger", "action"], required: ["trigger"], at: branchPath)
                else {
                    branches.append(Activity.PickBranch(trigger: .sequence([])))
                    continue
                }
                let trigger = fields["trigger"].map { child($0, suffix: "[\(index)].trigger") } ?? .sequence([])
                let action = fields["action"].map { child($0, suffix: "[\(index)].action") }
                branches.append(Activity.PickBranch(trigger: trigger, action: action))
            }
            return .pick(branches)
        default:
            return leafOrScope(kind, body)
        }
    }

    private mutating func leafOrScope(_ kind: String, _ body: JSONValue) -> Activity? {
        let shapes: [String: (allowed: [String], required: [String])] = [
            "assign": (["to", "value"], ["to", "value"]),
            "if": (["condition", "then", "else"], ["condition", "then"]),
            "while": (["condition", "body"], ["condition", "body"]),
            "delay": (["duration", "until"], []),
            "persist": ([], []),
            "receive": (["operation", "correlateOn", "createsInstance", "assignTo"], ["operation"]),
            "writeLine": (["text"], ["text"]),
            "invoke": (["activity", "input", "assignTo"], ["activity"]),
            "terminate": (["reason"], ["reason"]),
            "throw": (["message"], ["message"]),
            "tryCatch": (["try", "catch", "errorTo"], ["try", "catch"]),
            "noPersist": (["body"], ["body"]),
        ]
        guard let shape = shapes[kind],
            let fields = fields(body, allowed: shape.allowed, required: shape.required, at: path)
        else { return nil }
        var complete = true
        func text(_ name: String) -> String? {
            guard let value = fields[name] else { return nil }
            guard case .string(let text) = value else {
                problem("must be a string (an expression or a name), not a \(value.typeName)", field: name)
                complete = false
                return nil
            }
            return text
        }
        func nested(_ name: String) -> Activity? {
            fields[name].map { child($0, suffix: ".\(name)") }
        }
        let activity: Activity?
        switch kind {
        case "assign": activity = text("to").flatMap { to in text("value").map { .assign(to: to, value: $0) } }
        case "if":
            let condition = text("condition")
            let then = nested("then")
            let otherwise = nested("else")
            activity = condition.flatMap { condition in
                then.map { .if(condition: condition, then: $0, else: otherwise) }
            }
        case "while":
            let condition = text("condition")
            activity = nested("body").flatMap { body in condition.map { .while(condition: $0, body: body) } }
        case "delay":
            switch (text("duration"), text("until")) {
            case (let duration?, nil): activity = .delay(.duration(duration))
            case (nil, let until?): activity = .delay(.until(until))
            default:
                if complete {
                    problem("'delay' takes exactly one of 'duration' (e.g. \"PT30S\") or 'until' (an expression)")
                }
                activity = nil
            }
        case "persist": activity = .persist
        case "receive":
            var createsInstance = false
            if let value = fields["createsInstance"] {
                if case .bool(let flag) = value {
                    createsInstance = flag
                } else {
                    problem("must be true or false", field: "createsInstance")
                    complete = false
                }
            }
            let receive = text("operation").map {
                Activity.Receive(
                    operation: $0, correlateOn: text("correlateOn"), createsInstance: createsInstance,
                    assignTo: text("assignTo"))
            }
            activity = receive.map { .receive($0) }
        case "writeLine": activity = text("text").map { .writeLine(text: $0) }
        case "invoke":
            activity = text("activity").map {
                .invoke(Activity.Invoke(activity: $0, input: text("input"), assignTo: text("assignTo")))
            }
        case "terminate": activity = text("reason").map { .terminate(reason: $0) }
        case "throw": activity = text("message").map { .throw(message: $0) }
        case "tryCatch":
            let tryBody = nested("try")
            let catchBody = nested("catch")
            let errorTo = text("errorTo")
            activity = tryBody.flatMap { tryBody in
                catchBody.map { .tryCatch(try: tryBody, catch: $0, errorTo: errorTo) }
            }
        default: activity = nested("body").map { .noPersist(body: $0) }
        }
        return complete ? activity : nil
    }

    /// Reads a nested activity; one that cannot be read is reported and replaced by an empty
    /// sequence so that its siblings are still read and checked.
    private mutating func child(_ value: JSONValue, suffix: String) -> Activity {
        let parent = path
        path += suffix
        defer { path = parent }
        return activity(value) ?? .sequence([])
    }

    /// The fields of an activity's object, after checking for unknown and missing ones.
    private mutating func fields(_ value: JSONValue, allowed: [String], required: [String], at location: String)
        -> [String: JSONValue]?
    {
        guard case .object(let object) = value else {
            problems.append(DefinitionProblem(path: location, message: "must be an object, not a \(value.typeName)"))
            return nil
        }
        var valid = true
        for key in object.keys.sorted() where !allowed.contains(key) {
            let expected = allowed.isEmpty ? "no fields" : "only \(allowed.joined(separator: ", "))"
            problems.append(
                DefinitionProblem(path: location, field: key, message: "unknown field; expected \(expected)"))
            valid = false
        }
        for key in required where object[key] == nil {
            problems.append(DefinitionProblem(path: location, field: key, message: "missing required field"))
            valid = false
        }
        return valid ? object : nil
    }
}
