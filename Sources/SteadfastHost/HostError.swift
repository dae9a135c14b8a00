import SteadfastCore

/// An error from the host: a stable code and a message that says what to do next.
public struct HostError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let definitionNotFound = Code(rawValue: "definition-not-found")
        public static let invalidDefinition = Code(rawValue: "invalid-definition")
        public static let noRoute = Code(rawValue: "no-route")
        public static let instanceNotFound = Code(rawValue: "instance-not-found")
        public static let keyNotFound = Code(rawValue: "key-not-found")
        public static let lockLost = Code(rawValue: "lock-lost")
        public static let hostStopped = Code(rawValue: "host-stopped")
        public static let tooManyInstances = Code(rawValue: "too-many-instances")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// What a host reports as it works, for logs and command-line output.
public enum HostEvent: Sendable {
    case line(instance: String, text: String)
    /// A new instance was created (and is running on this host).
    case started(instance: String)
    case loaded(instance: String)
    case persisted(instance: String, version: Int64)
    case unloaded(instance: String, nextTimer: String?)
    case finished(instance: String, state: SteadfastCore.InstanceState)
    case faulted(instance: String, reason: String)
    case abandoned(instance: String, reason: String)
    /// An inbox entry will never be applied (its body is not JSON, or its Receive refused it).
    case rejected(instance: String, entry: Int64, reason: String)
    /// The instance waits for a host of its exact definition.
    case blocked(instance: String, reason: String)
    /// A detection round or inbox poll failed; the next one goes on.
    case detectionFailed(reason: String)
}
