/// One thing wrong with a workflow definition, located by activity path (as in the JSON
/// document: `body.sequence[2].pick[0].trigger`), field and, for expressions, 1-based column.
public struct DefinitionProblem: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var field: String?
    public var column: Int?
    public var message: String

    public init(path: String, field: String? = nil, column: Int? = nil, message: String) {
        self.path = path
        self.field = field
        self.column = column
        self.message = message
    }

    public var description: String {
        var location = path
        if let field { location += location.isEmpty ? field : ".\(field)" }
        if let column { location += ", column \(column)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}

/// A definition that cannot be loaded, with every problem found.
public struct DefinitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var problems: [DefinitionProblem]

    public init(problems: [DefinitionProblem]) { self.problems = problems }

    public var description: String {
        "the workflow definition has \(problems.count) problem\(problems.count == 1 ? "" : "s"):\n"
            + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
