/// A recursive-descent parser for the expression language.
///
/// Precedence, lowest first: `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* / %`, unary `! -`,
/// then member access, indexing and calls.
struct ExpressionParser {
    private var tokens: [ExpressionLexer.Token] = []
    private var position = 0
    private let source: String

    init(source: String) {
        self.source = source
    }

    mutating func parseAll() throws(ExpressionSyntaxError) -> WorkflowExpression.Node {
        tokens = try ExpressionLexer.tokenize(source)
        if case .end = tokens[0].kind {
            throw ExpressionSyntaxError(column: 1, message: "expression is empty")
        }
        let node = try parseBinary(level: 0)
        guard case .end = current.kind else {
            throw ExpressionSyntaxError(
                column: current.column, message: "unexpected \(describe(current)) after a complete expression")
        }
        return node
    }

    private static let levels: [[WorkflowExpression.BinaryOperator]] = [
        [.or], [.and], [.equal, .notEqual], [.less, .lessOrEqual, .greater, .greaterOrEqual],
        [.add, .subtract], [.multiply, .divide, .remainder],
    ]

    private var current: ExpressionLexer.Token { tokens[position] }

    private mutating func parseBinary(level: Int) throws(ExpressionSyntaxError) -> WorkflowExpression.Node {
        guard level < Self.levels.count else { return try parseUnary() }
        var left = try parseBinary(level: level + 1)
        while case .symbol(let symbol) = current.kind,
            let op = WorkflowExpression.BinaryOperator(rawValue: symbol), Self.levels[level].contains(op)
        {
            position += 1
            let right = try parseBinary(level: level + 1)
            left = .binary(op, left, right)
        }
        return left
    }

    private mutating func parseUnary() throws(ExpressionSyntaxError) -> WorkflowExpression.Node {
        if case .symbol(let symbol) = current.kind, let op = WorkflowExpression.UnaryOperator(rawValue: symbol) {
            position += 1
            let operand = try parseUnary()
            if op == .negate, case .literal(.number(let value)) = operand { return .literal(.number(-value)) }
            return .unary(op, operand)
        }
        return try parsePostfix()
    }

    private mutating func parsePostfix() throws(ExpressionSyntaxError) -> WorkflowExpression.Node {
        var node = try parsePrimary()
        while true {
            if accept(".") {
                guard case .identifier(let field) = current.kind else {
                    throw ExpressionSyntaxError(column: current.column, message: "expected a field name after '.'")
                }
                position += 1
                node = .member(node, field)
            } else if accept("[") {
                let index = try parseBinary(level: 0)
                try expect("]")
                node = .index(node, index)
            } else {
                return node
            }
        }
    }

    private mutating func parsePrimary() throws(ExpressionSyntaxError) -> WorkflowExpression.Node {
        let token = current
        switch token.kind {
        case .number(let value):
            position += 1
            return .literal(.number(value))
        case .string(let value):
            position += 1
            return .literal(.string(value))
        case .identifier(let name):
            position += 1
            switch name {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            guard accept("(") else { return .variable(name, column: token.column) }
            guard let function = ExpressionFunction(rawValue: name) else {
                let known = ExpressionFunction.allCases.map { "\($0.rawValue)()" }.joined(separator: ", ")
                throw ExpressionSyntaxError(
                    column: token.column, message: "unknown function '\(name)'; the functions are \(known)")
            }
            var arguments: [WorkflowExpression.Node] = []
            if !accept(")") {
                repeat {
                    arguments.append(try parseBinary(level: 0))
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
            return .call(function, arguments)
        case .symbol("("):
            position += 1
            let inner = try parseBinary(level: 0)
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
