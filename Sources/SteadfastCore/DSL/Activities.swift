// The activities of the Swift DSL, one type per activity kind. Each builds the same
// ``Activity`` the JSON format reads; expressions are given as source text.

extension Activity: ActivityConvertible {
    public var fragment: ActivityFragment { ActivityFragment(self) }
}

/// Runs its activities one after another (a block already does; use this inside `Parallel`).
public struct Sequential: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(@ActivityBuilder _ body: () -> [ActivityFragment]) {
        let parts = body()
        fragment = ActivityFragment(
            .sequence(parts.map(\.activity)), registry: parts.reduce(ActivityRegistry()) { $0.merging($1.registry) })
    }
}

/// Runs each activity of its block as a branch; completes when all branches have.
public struct Parallel: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(@ActivityBuilder _ branches: () -> [ActivityFragment]) {
        let parts = branches()
        fragment = ActivityFragment(
            .parallel(parts.map(\.activity)), registry: parts.reduce(ActivityRegistry()) { $0.merging($1.registry) })
    }
}

/// `Assign("status", "'approved'")`: sets a variable (or a path inside one) to an expression's value.
public struct Assign: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ target: String, _ value: String) { fragment = ActivityFragment(.assign(to: target, value: value)) }
}

/// `If("total > 100") { … } else: { … }`.
public struct If: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(
        _ condition: String, @ActivityBuilder then: () -> [ActivityFragment],
        @ActivityBuilder else otherwise: () -> [ActivityFragment]
    ) {
        let thenPart = ActivityFragment(block: then())
        let elsePart = ActivityFragment(block: otherwise())
        fragment = ActivityFragment(
            .if(condition: condition, then: thenPart.activity, else: elsePart.activity),
            registry: thenPart.registry.merging(elsePart.registry))
    }

    public init(_ condition: String, @ActivityBuilder then: () -> [ActivityFragment]) {
        let thenPart = ActivityFragment(block: then())
        fragment = ActivityFragment(
            .if(condition: condition, then: thenPart.activity, else: nil), registry: thenPart.registry)
    }
}

/// `While("attempt < 3") { … }`.
public struct While: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ condition: String, @ActivityBuilder _ body: () -> [ActivityFragment]) {
        let part = ActivityFragment(block: body())
        fragment = ActivityFragment(.while(condition: condition, body: part.activity), registry: part.registry)
    }
}

/// `Delay("PT72H")` waits an ISO-8601 duration; `Delay(until: "addDuration(now(), 'P1D')")` waits until a time.
public struct Delay: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ duration: String) { fragment = ActivityFragment(.delay(.duration(duration))) }
    public init(until time: String) { fragment = ActivityFragment(.delay(.until(time))) }
}

/// Asks the host to save the instance durably before anything after it runs.
public struct Persist: ActivityConvertible {
    public let fragment = ActivityFragment(.persist)
    public init() {}
}

/// Waits for a message for `operation`.
public struct Receive: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ operation: String, correlateOn: String? = nil, createsInstance: Bool = false, assignTo: String? = nil)
    {
        fragment = ActivityFragment(
            .receive(
                Activity.Receive(
                    operation: operation, correlateOn: correlateOn, createsInstance: createsInstance, assignTo: assignTo
                )))
    }
}

/// One branch of a `Pick`: a `Receive` or `Delay` trigger, and what to do when it fires first.
public struct Trigger {
    let branch: Activity.PickBranch
    let registry: ActivityRegistry

    public init(_ trigger: some ActivityConvertible, @ActivityBuilder action: () -> [ActivityFragment]) {
        let actionPart = action()
        let block = ActivityFragment(block: actionPart)
        branch = Activity.PickBranch(
            trigger: trigger.fragment.activity, action: actionPart.isEmpty ? nil : block.activity)
        registry = trigger.fragment.registry.merging(block.registry)
    }

    public init(_ trigger: some ActivityConvertible) {
        branch = Activity.PickBranch(trigger: trigger.fragment.activity, action: nil)
        registry = trigger.fragment.registry
    }
}

@resultBuilder
public enum TriggerBuilder {
    public static func buildBlock(_ triggers: Trigger...) -> [Trigger] { triggers }
}

/// Waits for the first of its triggers; the others are cancelled.
public struct Pick: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(@TriggerBuilder _ triggers: () -> [Trigger]) {
        let all = triggers()
        fragment = ActivityFragment(
            .pick(all.map(\.branch)), registry: all.reduce(ActivityRegistry()) { $0.merging($1.registry) })
    }
}

/// Writes the value of an expression as a line of output.
public struct WriteLine: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ text: String) { fragment = ActivityFragment(.writeLine(text: text)) }
}

/// Calls a custom activity by name; with a closure, registers that closure under the name.
public struct Invoke: ActivityConvertible {
    public let fragment: ActivityFragment

    public init(_ activity: String, input: String? = nil, assignTo: String? = nil) {
        fragment = ActivityFragment(.invoke(Activity.Invoke(activity: activity, input: input, assignTo: assignTo)))
    }

    public init(
        _ activity: String, input: String? = nil, assignTo: String? = nil,
        _ body: @escaping ActivityRegistry.SyncBody
    ) {
        var registry = ActivityRegistry()
        registry.register(activity, body)
        fragment = ActivityFragment(
            .invoke(Activity.Invoke(activity: activity, input: input, assignTo: assignTo)), registry: registry)
    }
}

/// Calls an asynchronous custom activity written in Swift; the instance cannot be persisted
/// until it returns.
public struct InvokeAsync: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(
        _ activity: String, input: String? = nil, assignTo: String? = nil,
        _ body: @escaping ActivityRegistry.AsyncBody
    ) {
        var registry = ActivityRegistry()
        registry.registerAsync(activity, body)
        fragment = ActivityFragment(
            .invoke(Activity.Invoke(activity: activity, input: input, assignTo: assignTo)), registry: registry)
    }
}

/// Ends the instance with status `terminated`.
public struct Terminate: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ reason: String) { fragment = ActivityFragment(.terminate(reason: reason)) }
}

/// Raises a fault with a message.
public struct Throw: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(_ message: String) { fragment = ActivityFragment(.throw(message: message)) }
}

/// `TryCatch(errorTo: "error") { … } catch: { … }`.
public struct TryCatch: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(
        errorTo: String? = nil, @ActivityBuilder _ body: () -> [ActivityFragment],
        @ActivityBuilder catch handler: () -> [ActivityFragment]
    ) {
        let tryPart = ActivityFragment(block: body())
        let catchPart = ActivityFragment(block: handler())
        fragment = ActivityFragment(
            .tryCatch(try: tryPart.activity, catch: catchPart.activity, errorTo: errorTo),
            registry: tryPart.registry.merging(catchPart.registry))
    }
}

/// A scope in which the instance may not be persisted.
public struct NoPersist: ActivityConvertible {
    public let fragment: ActivityFragment
    public init(@ActivityBuilder _ body: () -> [ActivityFragment]) {
        let part = ActivityFragment(block: body())
        fragment = ActivityFragment(.noPersist(body: part.activity), registry: part.registry)
    }
}
