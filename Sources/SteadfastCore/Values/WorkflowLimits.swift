/// The limits the engine checks so that no definition, expression, value or state can exhaust
/// the stack or the memory of a host: each is checked where the thing is made (parsing,
/// compiling, assigning, writing a state) and again where it is read back (decoding a state),
/// with the same number, so the engine never saves what it cannot load.
public enum WorkflowLimits {
    /// Characters in one expression.
    public static let maxExpressionLength = 65_536
    /// Nesting of one expression's syntax tree: parentheses, unary operators, indexes, call
    /// arguments, and one level per operator of a chain (`a + b + c` nests 2 deep).
    public static let maxExpressionDepth = 200
    /// Nesting of activities in a definition (a sequence in a while in a sequence is 3 deep).
    public static let maxActivityDepth = 100
    /// Nesting of arrays and objects in a value a variable holds, a message body or an input.
    public static let maxValueDepth = 100
    /// Nesting of arrays and objects in an encoded instance state, checked on write and on read.
    /// Above what the activity and value limits allow (3 levels an activity, 2 around the
    /// variables), below what Foundation's JSON decoder accepts (512).
    public static let maxStateDepth = 450
    /// Characters of a string an expression builds.
    public static let maxStringLength = 16 * 1024 * 1024
    /// Items of an array an expression builds.
    public static let maxArrayCount = 200_000
    /// Bytes of an encoded instance state, whatever the store allows (arrays that share their
    /// items are small in memory but may be enormous as text): the writer stops here.
    public static let maxStateBytes = 256 * 1024 * 1024
    /// Values (arrays, objects, and everything in them) one value may hold.
    public static let maxValueNodes = 200_000
    /// Bytes of a promoted property's value as text; a longer value is not promoted.
    public static let maxPromotedLength = 64 * 1024
}

extension JSONValue {
    /// How deeply arrays and objects nest in this value (0 for a scalar, 1 for `[1]` or `{}`)
    /// and how many values it holds, counting stops past `maxNodes` (nil then). Iterative, and
    /// bounded: a value whose parts share storage (`x.a = x; x.b = x` doubles it each time)
    /// is small in memory but may hold billions of values, so it is never walked in full.
    func measure(maxNodes: Int = WorkflowLimits.maxValueNodes) -> (depth: Int, nodes: Int)? {
        var deepest = 0
        var nodes = 0
        var pending: [(JSONValue, Int)] = [(self, 0)]
        while let (value, depth) = pending.popLast() {
            nodes += 1
            guard nodes <= maxNodes else { return nil }
            switch value {
            case .array(let items):
                deepest = max(deepest, depth + 1)
                for item in items { pending.append((item, depth + 1)) }
            case .object(let fields):
                deepest = max(deepest, depth + 1)
                for field in fields.values { pending.append((field, depth + 1)) }
            default:
                break
            }
        }
        return (deepest, nodes)
    }

    /// How deeply arrays and objects nest in this value; nil when it holds more than
    /// ``WorkflowLimits/maxValueNodes`` values.
    public var nestingDepth: Int? { measure()?.depth }

    /// Nil when the value nests no deeper than ``WorkflowLimits/maxValueDepth`` and holds no
    /// more than ``WorkflowLimits/maxValueNodes`` values; otherwise why it is refused, naming
    /// `what` ("the message body", "the input variable 'x'").
    public func depthProblem(_ what: String) -> String? {
        Self.shapeProblem(what, of: self, below: 0)
    }

    /// The same check for `value` placed `below` levels down in a container.
    static func shapeProblem(_ what: String, of value: JSONValue, below: Int) -> String? {
        guard let (depth, _) = value.measure() else {
            return "\(what) holds more than \(WorkflowLimits.maxValueNodes) values (arrays, objects and "
                + "everything in them): keep values smaller"
        }
        guard below + depth > WorkflowLimits.maxValueDepth else { return nil }
        return "\(what) nests arrays and objects \(below + depth) levels deep; the limit is "
            + "\(WorkflowLimits.maxValueDepth): keep values flatter"
    }
}
