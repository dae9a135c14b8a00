/// A parsed expression of the workflow expression language.
///
/// The language works on JSON values: literals (`42`, `'text'`, `"text"`, `true`, `false`,
/// `null`), variable paths (`order.items[0].price`), arithmetic `+ - * / %`, comparison
/// `== != < <= > >=`, logic `&& || !`, parentheses, string concatenation with `+`, and the
/// functions listed in ``ExpressionFunction``. It cannot run code or reach the host.
public struct WorkflowExpression: Hashable, Sendable, CustomStringConvertible {
    public let source: String
    let root: Node

    /// Parses `source`; a syntax error names the 1-based column.
    public init(_ source: String) throws(ExpressionSyntaxError) {
        self.source = source
        var parser = ExpressionParser(source: source)
        self.root = try parser.parseAll()
    }

    public var description: String { source }

    /// The root variable names the expression reads, each with the column where it first appears.
    public var variableReferences: [(name: String, column: Int)] {
        var found: [(String, Int)] = []
        root.collectVariables(into: &found)
        return found
    }

    indirect enum Node: Hashable, Sendable {
        case literal(JSONValue)
        case variable(String, column: Int)
        case member(Node, String)
        case index(Node, Node)
        case unary(UnaryOperator, Node)
        case binary(BinaryOperator, Node, Node)
        case call(ExpressionFunction, [Node])

        func collectVariables(into found: inout [(String, Int)]) {
            switch self {
            case .literal: break
            case .variable(let name, let column): found.append((name, column))
            case .member(let base, _): base.collectVariables(into: &found)
            case .index(let base, let index):
                base.collectVariables(into: &found)
                index.collectVariables(into: &found)
            case .unary(_, let operand): operand.collectVariables(into: &found)
            case .binary(_, let left, let right):
                left.collectVariables(into: &found)
                right.collectVariables(into: &found)
            case .call(_, let arguments): for argument in arguments { argument.collectVariables(into: &found) }
            }
        }
    }

    enum UnaryOperator: String, Hashable, Sendable {
        case not = "!"
        case negate = "-"
    }

    enum BinaryOperator: String, Hashable, Sendable {
        case or = "||"
        case and = "&&"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
        case remainder = "%"
    }
}

/// The functions an expression may call.
public enum ExpressionFunction: String, Hashable, Sendable, CaseIterable {
    /// `now()`: the current time as an ISO-8601 timestamp string (UTC).
    case now
    /// `len(x)`: characters of a string, items of an array, fields of an object.
    case len
    /// `string(x)`: strings as they are, other values as compact JSON (`42`, `true`, `[1,2]`).
    case string
    /// `number(x)`: numbers as they are, numeric strings parsed, booleans as 0/1.
    case number
    /// `duration('PT1H30M')`: the seconds of a fixed-length ISO-8601 duration (no years or months).
    case duration
    /// `addDuration(t, 'P1D')`: timestamp `t` plus an ISO-8601 duration, as a timestamp.
    case addDuration
    /// `seconds(t)`: the seconds since 1970 of timestamp `t` (for comparing and subtracting times).
    case seconds
    /// `timestamp(n)`: the ISO-8601 timestamp `n` seconds after 1970.
    case timestamp

    var arity: Int {
        switch self {
        case .now: 0
        case .len, .string, .number, .duration, .seconds, .timestamp: 1
        case .addDuration: 2
        }
    }
}

/// A syntax error in an expression, with the 1-based column where it was found.
public struct ExpressionSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public var column: Int
    public var message: String
    public var description: String { "column \(column): \(message)" }
}
