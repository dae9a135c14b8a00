/// A recursive-descent parser for the expression language.
///
/// Precedence, lowest first: `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* / %`, unary `! -`,
/// then member access, indexing and calls.
///
/// The syntax tree may nest at most ``WorkflowLimits/maxExpressionDepth`` deep, so neither this
/// parser nor the evaluator, which both recurse over it, can overflow the stack: `nesting`
/// counts the parser's open recursions (parentheses, unary operators, indexes, arguments) and
/// every parse function returns its node with the depth of its tree.
struct ExpressionParser {
    private var tokens: [ExpressionLexer.Token] = []
    private var position = 0
    private let source: String
    private var nesting = 0

    private typealias Parsed = (node: WorkflowExpression.Node, depth: Int)

    init(source: String) {
        self.source = source
    }

    mutating func parseAll() throws(ExpressionSyntaxError) -> WorkflowExpression.Node {
        guard source.utf8.count <= WorkflowLimits.maxExpressionLength else {
            throw ExpressionSyntaxError(
                column: 1,
                message:
                    "the expression is \(source.utf8.count) bytes long; the limit is \(WorkflowLimits.maxExpressionLength): split it into several assigns"
            )
        }
        tokens = try ExpressionLexer.tokenize(source)
        if case .end = tokens[0].kind {
            throw ExpressionSyntaxError(column: 1, message: "expression is empty")
        }
        let parsed = try parseBinary(level: 0)
        guard case .end = current.kind else {
            throw ExpressionSyntaxError(
                column: current.column, message: "unexpected \(describe(current)) after a complete expression")
        }
        return parsed.node
    }

    /// The depth of a node over children of `depth`, refused past the limit.
    private func deeper(_ depth: Int, at column: Int) throws(ExpressionSyntaxError) -> Int {
        guard depth < WorkflowLimits.maxExpressionDepth else { throw tooDeep(at: column) }
        return depth + 1
    }

    /// Parses a nested part (parenthesized, an operand of a unary operator, an index, an
    /// argument), refused before recursing past the limit.
    private mutating func nested<T>(_ parse: (inout Self) throws(ExpressionSyntaxError) -> T)
        throws(ExpressionSyntaxError) -> T
    {
        guard nesting < WorkflowLimits.maxExpressionDepth else { throw tooDeep(at: current.column) }
        nesting += 1
        defer { nesting -= 1 }
        return try parse(&self)
    }

    private func tooDeep(at column: Int) -> ExpressionSyntaxError {
        ExpressionSyntaxError(
            column: column,
            message:
                "the expression nests deeper than \(WorkflowLimits.maxExpressionDepth) levels (parentheses, operators, indexes): split it into several assigns"
        )
    }

    private static let levels: [[WorkflowExpression.BinaryOperator]] = [
        [.or], [.and], [.equal, .notEqual], [.less, .lessOrEqual, .greater, .greaterOrEqual],
        [.add, .subtract], [.multiply, .divide, .remainder],
    ]

    private var current: ExpressionLexer.Token { tokens[position] }

    private mutating func parseBinary(level: Int) throws(ExpressionSyntaxError) -> Parsed {
        guard level < Self.levels.count else { return try parseUnary() }
        var left = try parseBinary(level: level + 1)
        while case .symbol(let symbol) = current.kind,
            let op = WorkflowExpression.BinaryOperator(rawValue: symbol), Self.levels[level].contains(op)
        {
            let column = current.column
            position += 1
            let right = try parseBinary(level: level + 1)
            left = (.binary(op, left.node, right.node), try deeper(max(left.depth, right.depth), at: column))
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionSyntaxError) -> Parsed {
        if case .symbol(let symbol) = current.kind, let op = WorkflowExpression.UnaryOperator(rawValue: symbol) {
            let column = current.column
            position += 1
            let operand = try nested { (parser) throws(ExpressionSyntaxError) in try parser.parseUnary() }
            if op == .negate, case .literal(.number(let value)) = operand.node {
                return (.literal(.number(-value)), operand.depth)
            }
            return (.unary(op, operand.node), try deeper(operand.depth, at: column))
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(ExpressionSyntaxError) -> Parsed {
        var (node, depth) = try parsePrimary()
        while true {
            let column = current.column
            if accept(".") {
                guard case .identifier(let field) = current.kind else {
                    throw ExpressionSyntaxError(column: current.column, message: "expected a field name after '.'")
                }
                position += 1
                node = .member(node, field)
                depth = try deeper(depth, at: column)
            } else if accept("[") {
                let index = try nested { (parser) throws(ExpressionSyntaxError) in try parser.parseBinary(level: 0) }
                try expect("]")
                node = .index(node, index.node)
                depth = try deeper(max(depth, index.depth), at: column)
            } else {
                return (node, depth)
            }
        }
    }

    private mutating func parsePrimary() throws(ExpressionSyntaxError) -> Parsed {
        let token = current
        switch token.kind {
        case .number(let value):
            position += 1
            return (.literal(.number(value)), 0)
        case .string(let value):
            position += 1
            return (.literal(.string(value)), 0)
        case .identifier(let name):
            position += 1
            switch name {
            case "true": return (.literal(.bool(true)), 0)
            case "false": return (.literal(.bool(false)), 0)
            case "null": return (.literal(.null), 0)
            default: break
            }
            guard accept("(") else { return (.variable(name, column: token.column), 0) }
            guard let function = ExpressionFunction(rawValue: name) else {
                let known = ExpressionFunction.allCases.map { "\($0.rawValue)()" }.joined(separator: ", ")
                throw ExpressionSyntaxError(
                    column: token.column, message: "unknown function '\(name)'; the functions are \(known)")
            }
            var arguments: [WorkflowExpression.Node] = []
            var depth = 0
            if !accept(")") {
                repeat {
                    let argument = try nested { (parser) throws(ExpressionSyntaxError) in
                        try parser.parseBinary(level: 0)
                    }
                    arguments.append(argument.node)
                    depth = max(depth, argument.depth)
                } while accept(",")
                try expect(")")
            }
            guard arguments.count == function.arity else {
                throw ExpressionSyntaxError(
                    column: token.column,
                    message:
                        "\(name)() takes \(function.arity) argument\(function.arity == 1 ? "" : "s"), not \(arguments.count)"
                )
            }
            return (.call(function, arguments), try deeper(depth, at: token.column))
        case .symbol("("):
            position += 1
            let inner = try nested { (parser) throws(ExpressionSyntaxError) in try parser.parseBinary(level: 0) }
            try expect(")")
            return inner
        default:
            throw ExpressionSyntaxError(column: token.column, message: "expected a value but found \(describe(token))")
        }
    }

    private mutating func accept(_ symbol: String) -> Bool {
        guard case .symbol(symbol) = current.kind else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ symbol: String) throws(ExpressionSyntaxError) {
        guard accept(symbol) else {
            throw ExpressionSyntaxError(
                column: current.column, message: "expected '\(symbol)' but found \(describe(current))")
        }
    }

    private func describe(_ token: ExpressionLexer.Token) -> String {
        switch token.kind {
        case .number(let value): "number \(JSONValue.format(value))"
        case .string(let value): "string '\(value)'"
        case .identifier(let name): "'\(name)'"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the expression"
        }
    }
}
