/// The activity tree of a workflow definition, as written: in JSON, or with the Swift DSL.
///
/// Expressions are kept as source text here; ``WorkflowDefinition`` checks and compiles them.
public indirect enum Activity: Hashable, Sendable {
    /// Runs its activities one after another.
    case sequence([Activity])
    /// Runs every branch; completes when all have completed. Branches interleave at idle points.
    case parallel([Activity])
    /// Sets a variable (or a field or index inside one) to the value of an expression.
    case assign(to: String, value: String)
    /// Runs `then` when the condition is true, otherwise `else` (if any).
    case `if`(condition: String, then: Activity, else: Activity?)
    /// Runs `body` while the condition is true.
    case `while`(condition: String, body: Activity)
    /// A durable timer.
    case delay(Delay)
    /// Asks the host to save the instance durably before anything after it runs.
    case persist
    /// Waits for a message for a named operation (a bookmark).
    case receive(Receive)
    /// Waits for the first of several triggers; the others are cancelled.
    case pick([PickBranch])
    /// Writes a line of text to the instance's output.
    case writeLine(text: String)
    /// Calls a custom activity written in Swift and registered by name.
    case invoke(Invoke)
    /// Ends the instance at once with status `terminated`; cannot be caught.
    case terminate(reason: String)
    /// Raises a fault, which an enclosing `tryCatch` may catch.
    case `throw`(message: String)
    /// Runs `try`; if it faults, records the fault in `errorTo` and runs `catch`.
    case tryCatch(try: Activity, catch: Activity, errorTo: String?)
    /// A scope in which the instance may not be persisted.
    case noPersist(body: Activity)

    public enum Delay: Hashable, Sendable {
        /// An ISO-8601 duration such as `PT72H`, counted from when the Delay starts.
        case duration(String)
        /// An expression giving the due time: an ISO-8601 timestamp or seconds since 1970.
        case until(String)
    }

    public struct Receive: Hashable, Sendable {
        public var operation: String
        /// The correlation key (one of the definition's `keys`) the message is routed by.
        public var correlateOn: String?
        /// Whether a message for this operation may start a new instance.
        public var createsInstance: Bool
        /// Where the message body is stored.
        public var assignTo: String?

        public init(
            operation: String, correlateOn: String? = nil, createsInstance: Bool = false, assignTo: String? = nil
        ) {
            self.operation = operation
            self.correlateOn = correlateOn
            self.createsInstance = createsInstance
            self.assignTo = assignTo
        }
    }

    public struct PickBranch: Hashable, Sendable {
        /// A `receive` or a `delay`.
        public var trigger: Activity
        public var action: Activity?

        public init(trigger: Activity, action: Activity? = nil) {
            self.trigger = trigger
            self.action = action
        }
    }

    public struct Invoke: Hashable, Sendable {
        /// The name the custom activity is registered under.
        public var activity: String
        public var input: String?
        public var assignTo: String?

        public init(activity: String, input: String? = nil, assignTo: String? = nil) {
            self.activity = activity
            self.input = input
            self.assignTo = assignTo
        }
    }

    /// The JSON name of this kind of activity.
    public var kind: String {
        switch self {
        case .sequence: "sequence"
        case .parallel: "parallel"
        case .assign: "assign"
        case .if: "if"
        case .while: "while"
        case .delay: "delay"
        case .persist: "persist"
        case .receive: "receive"
        case .pick: "pick"
        case .writeLine: "writeLine"
        case .invoke: "invoke"
        case .terminate: "terminate"
        case .throw: "throw"
        case .tryCatch: "tryCatch"
        case .noPersist: "noPersist"
        }
    }
}
