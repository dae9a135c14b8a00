/// Why an instance (or, inside a tryCatch, an activity) faulted.
public struct WorkflowFault: Error, Hashable, Sendable, Codable, CustomStringConvertible {
    /// What went wrong, in words.
    public var message: String
    /// The path of the activity that faulted, e.g. `body.sequence[2].invoke`.
    public var activityPath: String

    public init(message: String, activityPath: String) {
        self.message = message
        self.activityPath = activityPath
    }

    /// The value a tryCatch's `errorTo` variable receives.
    public var jsonValue: JSONValue {
        .object(["message": .string(message), "activity": .string(activityPath)])
    }

    public var description: String { "\(message) (at \(activityPath))" }
}

/// One entry of an instance's execution trace: an activity started, completed or faulted.
public struct TraceEvent: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable, Codable {
        case started, completed, faulted, canceled
    }

    public var path: String
    public var kind: Kind

    public var description: String { "\(kind.rawValue) \(path)" }
}

/// An asynchronous custom activity the host must run and report back with
/// ``WorkflowInstance/completeAsync(call:outcome:now:)``.
public struct AsyncCall: Hashable, Sendable {
    public var call: Int
    public var activity: String
    public var input: JSONValue
    public var activityPath: String
}
