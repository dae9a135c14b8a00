import Foundation

/// A checked, compiled workflow definition: what the interpreter runs.
///
/// Build one from JSON (``init(json:registry:)``) or with the Swift DSL; both give the same
/// tree. Every problem — a malformed activity, an expression syntax error, an unknown variable —
/// is reported at once, with its activity path and column.
public struct WorkflowDefinition: Sendable {
    public let name: String
    public let version: String
    /// The declared variables with their initial values.
    public let variables: [String: JSONValue]
    /// The variables whose values are the instance's correlation keys.
    public let keys: [String]
    /// The variables copied into the store at every save as promoted properties, so operators
    /// can find instances by them without decoding states (`wf instances --where NAME=VALUE`).
    public let promoted: [String]
    public let body: Activity
    /// The custom activities this definition's `invoke`s may call.
    public let registry: ActivityRegistry
    public let identity: DefinitionIdentity
    let root: Node

    /// Checks and compiles a definition.
    ///
    /// - Parameter checkInvokes: when true, an `invoke` naming an activity missing from
    ///   `registry` is a problem; pass false to validate a definition without its host.
    public init(
        name: String,
        version: String,
        variables: [String: JSONValue] = [:],
        keys: [String] = [],
        promote: [String] = [],
        body: Activity,
        registry: ActivityRegistry = ActivityRegistry(),
        checkInvokes: Bool = true
    ) throws(DefinitionError) {
        var compiler = DefinitionCompiler(variables: variables, keys: keys, registry: checkInvokes ? registry : nil)
        compiler.checkHeader(name: name, version: version, promote: promote)
        let root = compiler.compile(body, path: "body")
        compiler.checkCreatesInstancePlacement(body)
        guard compiler.problems.isEmpty, let root else { throw DefinitionError(problems: compiler.problems) }
        self.name = name
        self.version = version
        self.variables = variables
        self.keys = keys
        self.promoted = promote
        self.body = body
        self.registry = registry
        self.root = root
        let document = Self.document(
            name: name, version: version, variables: variables, keys: keys, promote: promote, body: body)
        self.identity = DefinitionIdentity(name: name, version: version, fingerprint: Fingerprint.of(document.jsonText))
    }

    /// Reads a definition from its JSON document.
    public init(json data: Data, registry: ActivityRegistry = ActivityRegistry(), checkInvokes: Bool = true)
        throws(DefinitionError)
    {
        let document: JSONValue
        do {
            document = try JSONValue.parse(data, what: "the definition")
        } catch {
            throw DefinitionError(problems: [DefinitionProblem(path: "", message: error.message)])
        }
        try self.init(document: document, registry: registry, checkInvokes: checkInvokes)
    }

    /// Reads a definition from an already parsed JSON document.
    public init(document: JSONValue, registry: ActivityRegistry = ActivityRegistry(), checkInvokes: Bool = true)
        throws(DefinitionError)
    {
        guard case .object(let fields) = document else {
            throw DefinitionError(problems: [
                DefinitionProblem(path: "", message: "a definition must be a JSON object with name, version and body")
            ])
        }
        var problems: [DefinitionProblem] = []
        let allowed = ["$schema", "name", "version", "description", "variables", "keys", "promote", "body"]
        for key in fields.keys.sorted() where !allowed.contains(key) {
            problems.append(
                DefinitionProblem(
                    path: "", field: key, message: "unknown field; expected \(allowed.joined(separator: ", "))"))
        }
        func string(_ key: String) -> String {
            switch fields[key] {
            case .string(let value): return value
            case nil: problems.append(DefinitionProblem(path: "", field: key, message: "missing required field"))
            case let other?:
                problems.append(
                    DefinitionProblem(path: "", field: key, message: "must be a string, not a \(other.typeName)"))
            }
            return ""
        }
        let name = string("name")
        let version = string("version")
        var variables: [String: JSONValue] = [:]
        switch fields["variables"] {
        case .object(let declared)?: variables = declared
        case nil: break
        case let other?:
            problems.append(
                DefinitionProblem(
                    path: "", field: "variables",
                    message: "must be an object of names and initial values, not a \(other.typeName)"))
        }
        func names(_ field: String) -> [String] {
            var names: [String] = []
            switch fields[field] {
            case .array(let items)?:
                for (index, item) in items.enumerated() {
                    if case .string(let name) = item {
                        names.append(name)
                    } else {
                        problems.append(
                            DefinitionProblem(path: "", field: "\(field)[\(index)]", message: "must be a variable name")
                        )
                    }
                }
            case nil: break
            case let other?:
                problems.append(
                    DefinitionProblem(
                        path: "", field: field, message: "must be an array of variable names, not a \(other.typeName)"))
            }
            return names
        }
        let keys = names("keys")
        let promote = names("promote")
        var body = Activity.sequence([])
        if let bodyValue = fields["body"] {
            body = Activity.decode(bodyValue, path: "body", problems: &problems)
        } else {
            problems.append(DefinitionProblem(path: "", field: "body", message: "missing required field"))
        }
        do {
            try self.init(
                name: name, version: version, variables: variables, keys: keys, promote: promote, body: body,
                registry: registry, checkInvokes: checkInvokes)
        } catch {
            // Parts that could not be read were checked as empty placeholders: drop what the
            // checks say at or inside them, which would only repeat the reading problem.
            let unreadable = problems.map(\.path).filter { !$0.isEmpty }
            let checked = error.problems.filter { problem in
                !unreadable.contains {
                    problem.path == $0 || problem.path.hasPrefix($0 + ".") || problem.path.hasPrefix($0 + "[")
                }
            }
            throw DefinitionError(problems: problems + checked)
        }
        if !problems.isEmpty { throw DefinitionError(problems: problems) }
    }

    /// The definition as a JSON document, in the format ``init(json:registry:checkInvokes:)`` reads.
    public var jsonValue: JSONValue {
        Self.document(name: name, version: version, variables: variables, keys: keys, promote: promoted, body: body)
    }

    /// The canonical document (its text is fingerprinted; `promote` appears only when there is
    /// one, so definitions without it keep their fingerprints).
    private static func document(
        name: String, version: String, variables: [String: JSONValue], keys: [String], promote: [String],
        body: Activity
    ) -> JSONValue {
        var fields: [String: JSONValue] = [
            "name": .string(name), "version": .string(version), "variables": .object(variables),
            "keys": .array(keys.map { .string($0) }), "body": body.jsonValue,
        ]
        if !promote.isEmpty { fields["promote"] = .array(promote.map { .string($0) }) }
        return .object(fields)
    }

    /// The promoted properties of an instance with these variable values: each promoted
    /// variable that holds a value, as text (a string as it is, anything else as JSON); a value
    /// longer than ``WorkflowLimits/maxPromotedLength`` as text is not promoted.
    public func promotedProperties(of variables: [String: JSONValue]) -> [String: String] {
        var properties: [String: String] = [:]
        for name in promoted {
            if let value = variables[name], value != .null,
                let text = try? value.text(limit: WorkflowLimits.maxPromotedLength)
            {
                properties[name] = text
            }
        }
        return properties
    }

    /// The operations whose messages may start a new instance (Receives with `createsInstance`).
    public var creatingOperations: [String] {
        var operations: [String] = []
        body.visit { activity in
            if case .receive(let receive) = activity, receive.createsInstance { operations.append(receive.operation) }
        }
        return operations
    }

    /// The correlation keys receives correlate on, by operation.
    public var receiveOperations: [String: String?] {
        var operations: [String: String?] = [:]
        body.visit { activity in
            if case .receive(let receive) = activity { operations[receive.operation] = receive.correlateOn }
        }
        return operations
    }
}

extension Activity {
    /// Calls `visitor` on this activity and every activity inside it, in document order.
    public func visit(_ visitor: (Activity) -> Void) {
        visitor(self)
        switch self {
        case .sequence(let items), .parallel(let items): for item in items { item.visit(visitor) }
        case .if(_, let then, let otherwise):
            then.visit(visitor)
            otherwise?.visit(visitor)
        case .while(_, let body), .noPersist(let body): body.visit(visitor)
        case .pick(let branches):
            for branch in branches {
                branch.trigger.visit(visitor)
                branch.action?.visit(visitor)
            }
        case .tryCatch(let tryBody, let catchBody, _):
            tryBody.visit(visitor)
            catchBody.visit(visitor)
        case .assign, .delay, .persist, .receive, .writeLine, .invoke, .terminate, .throw: break
        }
    }
}
