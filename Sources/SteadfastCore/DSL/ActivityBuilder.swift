/// A piece of a workflow written with the Swift DSL: an activity plus the Swift closures its
/// `Invoke`s carry.
public struct ActivityFragment: Sendable {
    public let activity: Activity
    public let registry: ActivityRegistry

    public init(_ activity: Activity, registry: ActivityRegistry = ActivityRegistry()) {
        self.activity = activity
        self.registry = registry
    }

    /// One activity for a block: the activity itself when the block holds one, else a sequence.
    init(block fragments: [ActivityFragment]) {
        let registry = fragments.reduce(ActivityRegistry()) { $0.merging($1.registry) }
        if fragments.count == 1, let only = fragments.first {
            self.init(only.activity, registry: registry)
        } else {
            self.init(.sequence(fragments.map(\.activity)), registry: registry)
        }
    }
}

/// Anything the DSL accepts as an activity.
public protocol ActivityConvertible {
    var fragment: ActivityFragment { get }
}

/// Builds a block of activities; a block with several activities runs them in sequence.
@resultBuilder
public enum ActivityBuilder {
    public static func buildExpression(_ activity: some ActivityConvertible) -> [ActivityFragment] {
        [activity.fragment]
    }

    public static func buildBlock(_ parts: [ActivityFragment]...) -> [ActivityFragment] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [ActivityFragment]?) -> [ActivityFragment] { part ?? [] }
    public static func buildEither(first part: [ActivityFragment]) -> [ActivityFragment] { part }
    public static func buildEither(second part: [ActivityFragment]) -> [ActivityFragment] { part }
    public static func buildArray(_ parts: [[ActivityFragment]]) -> [ActivityFragment] { parts.flatMap { $0 } }
}

extension WorkflowDefinition {
    /// A definition written with the Swift DSL:
    ///
    /// ```swift
    /// let approval = try WorkflowDefinition(name: "order-approval", version: "1",
    ///                                       variables: ["orderId": nil, "status": "new"], keys: ["orderId"]) {
    ///     Receive("submit", correlateOn: "orderId", createsInstance: true, assignTo: "order")
    ///     Assign("orderId", "order.orderId")
    ///     Persist()
    ///     Pick {
    ///         Trigger(Receive("approve", correlateOn: "orderId")) { Assign("status", "'approved'") }
    ///         Trigger(Delay("PT72H")) { Assign("status", "'expired'") }
    ///     }
    ///     WriteLine("'order ' + orderId + ' is ' + status")
    /// }
    /// ```
    ///
    /// The block is the workflow's body, a sequence when it holds several activities. Closures
    /// given to `Invoke` are registered under their names, with `registry`'s entries.
    public init(
        name: String,
        version: String,
        variables: [String: JSONValue] = [:],
        keys: [String] = [],
        promote: [String] = [],
        registry: ActivityRegistry = ActivityRegistry(),
        @ActivityBuilder body: () -> [ActivityFragment]
    ) throws(DefinitionError) {
        let root = ActivityFragment(block: body())
        try self.init(
            name: name, version: version, variables: variables, keys: keys, promote: promote, body: root.activity,
            registry: registry.merging(root.registry))
    }
}
