/// The left side of an assignment: a variable, optionally followed by fields and indexes
/// (`status`, `order.status`, `order.items[i].price`). Missing objects on the way are created.
struct AssignmentTarget: Hashable, Sendable {
    enum Step: Hashable, Sendable {
        case field(String)
        case index(WorkflowExpression.Node)
    }

    let variable: String
    let steps: [Step]
    let source: String

    init(_ source: String) throws(ExpressionSyntaxError) {
        let expression = try WorkflowExpression(source)
        var steps: [Step] = []
        var node = expression.root
        while true {
            switch node {
            case .variable(let name, _):
                self.variable = name
                self.steps = steps.reversed()
                self.source = source
                return
            case .member(let base, let field):
                steps.append(.field(field))
                node = base
            case .index(let base, let index):
                steps.append(.index(index))
                node = base
            default:
                throw ExpressionSyntaxError(
                    column: 1,
                    message: "'\(source)' cannot be assigned to: name a variable, optionally with fields or indexes"
                )
            }
        }
    }

    /// Stores `value` at this target within `variables`. The variable may nest at most
    /// ``WorkflowLimits/maxValueDepth`` deep: a value placed `steps.count` levels down adds its
    /// own depth to that (the rest of the variable already kept within the limit). The value
    /// may hold at most ``WorkflowLimits/maxValueNodes`` values, so a variable at most doubles
    /// past that before an assignment of it is refused.
    func assign(_ value: JSONValue, in context: inout EvaluationContext) throws(ExpressionError) {
        if let problem = JSONValue.shapeProblem(
            "'\(variable)' after this assignment", of: value, below: steps.count)
        {
            throw ExpressionError(problem)
        }
        var resolved: [JSONValue] = []
        for step in steps {
            if case .index(let node) = step { resolved.append(try node.evaluate(in: context)) }
        }
        let current = context.variables[variable] ?? .null
        var indexes = resolved.makeIterator()
        context.variables[variable] = try Self.store(value, into: current, steps: steps[...], indexes: &indexes)
    }

    private static func store(
        _ value: JSONValue,
        into container: JSONValue,
        steps: ArraySlice<Step>,
        indexes: inout IndexingIterator<[JSONValue]>
    ) throws(ExpressionError) -> JSONValue {
        guard let step = steps.first else { return value }
        switch step {
        case .field(let name):
            var fields: [String: JSONValue]
            switch container {
            case .object(let existing): fields = existing
            case .null: fields = [:]
            default: throw ExpressionError("cannot set field '\(name)' of a \(container.typeName)")
            }
            fields[name] = try store(value, into: fields[name] ?? .null, steps: steps.dropFirst(), indexes: &indexes)
            return .object(fields)
        case .index:
            let key = indexes.next() ?? .null
            switch (container == .null && key.typeName == "number" ? .array([]) : container, key) {
            case (.array(var items), .number(let position)):
                guard let offset = JSONValue.exactInteger(position), offset >= 0, offset <= items.count else {
                    throw ExpressionError("array index \(JSONValue.format(position)) is outside 0...\(items.count)")
                }
                let index = Int(offset)
                if index == items.count { items.append(.null) }
                items[index] = try store(value, into: items[index], steps: steps.dropFirst(), indexes: &indexes)
                return .array(items)
            case (.object(var fields), .string(let name)):
                fields[name] = try store(
                    value, into: fields[name] ?? .null, steps: steps.dropFirst(), indexes: &indexes)
                return .object(fields)
            case (.null, .string(let name)):
                return .object([name: try store(value, into: .null, steps: steps.dropFirst(), indexes: &indexes)])
            default:
                throw ExpressionError("cannot index a \(container.typeName) with a \(key.typeName) to assign")
            }
        }
    }
}
