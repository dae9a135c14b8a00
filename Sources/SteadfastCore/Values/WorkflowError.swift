/// An error from the workflow core: a stable `code` for programs and a message for people that
/// says what went wrong and what to do next.
public struct WorkflowError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidJSON = Code(rawValue: "invalid-json")
        public static let invalidDefinition = Code(rawValue: "invalid-definition")
        public static let invalidInput = Code(rawValue: "invalid-input")
        public static let definitionMismatch = Code(rawValue: "definition-mismatch")
        public static let corruptState = Code(rawValue: "corrupt-state")
        /// A state, value or expression exceeds one of ``WorkflowLimits``.
        public static let stateTooLarge = Code(rawValue: "state-too-large")
        public static let unsupportedStateFormat = Code(rawValue: "unsupported-state-format")
        public static let noSuchBookmark = Code(rawValue: "no-such-bookmark")
        public static let correlationMismatch = Code(rawValue: "correlation-mismatch")
        public static let notRunnable = Code(rawValue: "not-runnable")
        public static let noSuchAsyncCall = Code(rawValue: "no-such-async-call")
        /// An instance cannot move onto another version of its definition at the point it is at.
        public static let incompatibleDefinition = Code(rawValue: "incompatible-definition")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }
}
