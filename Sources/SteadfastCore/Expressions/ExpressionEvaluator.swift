/// A runtime error while evaluating an expression: a type mismatch, a division by zero, an
/// unparsable number. The interpreter turns it into a fault of the activity that evaluated it.
public struct ExpressionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

/// What an expression can see: the instance's variables and the injected current time.
struct EvaluationContext {
    var variables: [String: JSONValue]
    var now: Instant
}

extension WorkflowExpression {
    /// Evaluates the expression. Reading a missing field or an index past the end gives `null`.
    func evaluate(in context: EvaluationContext) throws(ExpressionError) -> JSONValue {
        try root.evaluate(in: context)
    }
}

extension WorkflowExpression.Node {
    func evaluate(in context: EvaluationContext) throws(ExpressionError) -> JSONValue {
        switch self {
        case .literal(let value):
            return value
        case .variable(let name, _):
            guard let value = context.variables[name] else { throw ExpressionError("unknown variable '\(name)'") }
            return value
        case .member(let base, let field):
            switch try base.evaluate(in: context) {
            case .object(let fields): return fields[field] ?? .null
            case .null: return .null
            case let other: throw ExpressionError("cannot read field '\(field)' of a \(other.typeName)")
            }
        case .index(let base, let indexNode):
            let container = try base.evaluate(in: context)
            let index = try indexNode.evaluate(in: context)
            switch (container, index) {
            case (.array(let items), .number(let position)):
                guard let offset = JSONValue.exactInteger(position) else {
                    throw ExpressionError("array index \(JSONValue.format(position)) is not a whole number")
                }
                return offset >= 0 && offset < items.count ? items[Int(offset)] : .null
            case (.object(let fields), .string(let key)): return fields[key] ?? .null
            case (.null, _): return .null
            default: throw ExpressionError("cannot index a \(container.typeName) with a \(index.typeName)")
            }
        case .unary(.not, let operand):
            return .bool(!(try operand.evaluate(in: context).isTruthy))
        case .unary(.negate, let operand):
            let value = try operand.evaluate(in: context)
            guard case .number(let number) = value else { throw ExpressionError("cannot negate a \(value.typeName)") }
            return .number(-number)
        case .binary(.and, let left, let right):
            guard try left.evaluate(in: context).isTruthy else { return .bool(false) }
            return .bool(try right.evaluate(in: context).isTruthy)
        case .binary(.or, let left, let right):
            if try left.evaluate(in: context).isTruthy { return .bool(true) }
            return .bool(try right.evaluate(in: context).isTruthy)
        case .binary(let op, let left, let right):
            return try Self.apply(op, try left.evaluate(in: context), try right.evaluate(in: context))
        case .call(let function, let arguments):
            var values: [JSONValue] = []
            for argument in arguments { values.append(try argument.evaluate(in: context)) }
            return try function.apply(values, now: context.now)
        }
    }

    private static func apply(_ op: WorkflowExpression.BinaryOperator, _ left: JSONValue, _ right: JSONValue)
        throws(ExpressionError) -> JSONValue
    {
        switch op {
        case .equal: return .bool(left == right)
        case .notEqual: return .bool(left != right)
        case .add:
            switch (left, right) {
            case (.number(let a), .number(let b)): return try finite(a + b, op)
            case (.string, _), (_, .string):
                let limit = WorkflowLimits.maxStringLength
                let (a, b) = (try left.text(limit: limit), try right.text(limit: limit))
                guard a.utf8.count + b.utf8.count <= WorkflowLimits.maxStringLength else {
                    throw ExpressionError(
                        "the string '+' builds would be \(a.utf8.count + b.utf8.count) bytes long; the limit is \(WorkflowLimits.maxStringLength)"
                    )
                }
                return .string(a + b)
            case (.array(let a), .array(let b)):
                guard a.count + b.count <= WorkflowLimits.maxArrayCount else {
                    throw ExpressionError(
                        "the array '+' builds would have \(a.count + b.count) items; the limit is \(WorkflowLimits.maxArrayCount)"
                    )
                }
                return .array(a + b)
            default: throw ExpressionError("cannot add a \(left.typeName) and a \(right.typeName)")
            }
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: Bool
            switch (left, right) {
            case (.number(let a), .number(let b)):
                order = op == .less ? a < b : op == .lessOrEqual ? a <= b : op == .greater ? a > b : a >= b
            case (.string(let a), .string(let b)):
                order = op == .less ? a < b : op == .lessOrEqual ? a <= b : op == .greater ? a > b : a >= b
            default:
                throw ExpressionError(
                    "cannot compare a \(left.typeName) with a \(right.typeName) using '\(op.rawValue)'")
            }
            return .bool(order)
        case .subtract, .multiply, .divide, .remainder:
            guard case .number(let a) = left, case .number(let b) = right else {
                throw ExpressionError(
                    "'\(op.rawValue)' needs two numbers, not a \(left.typeName) and a \(right.typeName)")
            }
            switch op {
            case .subtract: return try finite(a - b, op)
            case .multiply: return try finite(a * b, op)
            default:
                guard b != 0 else { throw ExpressionError("division by zero") }
                return try finite(op == .divide ? a / b : a.truncatingRemainder(dividingBy: b), op)
            }
        case .and, .or:
            return .bool(op == .and ? left.isTruthy && right.isTruthy : left.isTruthy || right.isTruthy)
        }
    }

    private static func finite(_ value: Double, _ op: WorkflowExpression.BinaryOperator) throws(ExpressionError)
        -> JSONValue
    {
        guard value.isFinite else { throw ExpressionError("the result of '\(op.rawValue)' is too large for a number") }
        return .number(value)
    }
}

extension ExpressionFunction {
    func apply(_ arguments: [JSONValue], now: Instant) throws(ExpressionError) -> JSONValue {
        switch self {
        case .now:
            return .string(now.iso8601)
        case .len:
            switch arguments[0] {
            case .string(let value): return .number(Double(value.count))
            case .array(let items): return .number(Double(items.count))
            case .object(let fields): return .number(Double(fields.count))
            case let other: throw ExpressionError("len() needs a string, array or object, not a \(other.typeName)")
            }
        case .string:
            return .string(try arguments[0].text(limit: WorkflowLimits.maxStringLength))
        case .number:
            switch arguments[0] {
            case .number: return arguments[0]
            case .bool(let value): return .number(value ? 1 : 0)
            case .string(let text):
                guard let value = Double(text.trimmingWhitespace()), value.isFinite else {
                    throw ExpressionError("number() cannot read '\(text)' as a number")
                }
                return .number(value)
            case let other: throw ExpressionError("number() cannot convert a \(other.typeName)")
            }
        case .duration:
            let duration = try Self.duration(arguments[0])
            guard duration.months == 0 else {
                throw ExpressionError(
                    "duration('\(duration)') has years or months, whose length varies: use addDuration()")
            }
            return .number(Double(duration.milliseconds) / 1000)
        case .addDuration:
            return .string(
                Self.duration(try Self.duration(arguments[1]), after: try Self.instant(arguments[0])).iso8601)
        case .seconds:
            return .number(try Self.instant(arguments[0]).secondsSinceEpoch)
        case .timestamp:
            return .string(try Self.instant(arguments[0]).iso8601)
        }
    }

    private static func duration(_ value: JSONValue) throws(ExpressionError) -> ISODuration {
        guard case .string(let text) = value else {
            throw ExpressionError("a duration must be an ISO-8601 string such as 'PT1H', not a \(value.typeName)")
        }
        switch ISODuration.parse(text) {
        case .success(let duration): return duration
        case .failure(let error): throw ExpressionError(error.message)
        }
    }

    private static func duration(_ duration: ISODuration, after start: Instant) -> Instant {
        duration.added(to: start)
    }

    /// Reads a time: an ISO-8601 timestamp string, or a number of seconds since 1970.
    static func instant(_ value: JSONValue) throws(ExpressionError) -> Instant {
        switch value {
        case .string(let text):
            guard let instant = Instant(iso8601: text) else {
                throw ExpressionError("'\(text)' is not an ISO-8601 timestamp such as '2026-11-23T09:00:00Z'")
            }
            return instant
        case .number(let seconds) where abs(seconds) < 1e13:
            return Instant(secondsSinceEpoch: seconds)
        default:
            throw ExpressionError(
                "a time must be an ISO-8601 timestamp string or seconds since 1970, not \(value.jsonText)")
        }
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        var slice = self[...]
        while slice.first?.isWhitespace == true { slice = slice.dropFirst() }
        while slice.last?.isWhitespace == true { slice = slice.dropLast() }
        return slice
    }
}
