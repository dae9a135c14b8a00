import SteadfastCore
import SteadfastHost
import SteadfastStore

/// The one error every operation of the application layer throws: a stable code, a message for
/// people that says what to do next, and the mapping to exit codes and HTTP statuses (made
/// once, here).
public struct ApplicationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, machine-readable code (`instance-not-found`, `timeout`, …). New codes may be
    /// added; existing ones never change meaning.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input was wrong (an argument, a JSON body, an out-of-range option).
        public static let invalidInput = Code(rawValue: "invalid-input")
        public static let invalidStoreURL = Code(rawValue: "invalid-store-url")
        public static let storeNotFound = Code(rawValue: "store-not-found")
        public static let instanceNotFound = Code(rawValue: "instance-not-found")
        /// An id prefix matches more than one instance.
        public static let ambiguousID = Code(rawValue: "ambiguous-id")
        public static let keyNotFound = Code(rawValue: "key-not-found")
        public static let keyConflict = Code(rawValue: "key-conflict")
        /// The same `Idempotency-Key` came with a different request.
        public static let idempotencyKeyReused = Code(rawValue: "idempotency-key-reused")
        public static let instanceLocked = Code(rawValue: "instance-locked")
        public static let instanceFinished = Code(rawValue: "instance-finished")
        public static let definitionNotFound = Code(rawValue: "definition-not-found")
        public static let invalidDefinition = Code(rawValue: "invalid-definition")
        /// An instance cannot move onto the other version of its definition asked for (the
        /// message names the first difference).
        public static let incompatibleDefinition = Code(rawValue: "incompatible-definition")
        public static let noRoute = Code(rawValue: "no-route")
        /// A message or command was stored but will never be applied (its reason says why).
        public static let rejected = Code(rawValue: "rejected")
        /// A wait ended before its condition held; what was sent stays queued.
        public static let timeout = Code(rawValue: "timeout")
        public static let conflict = Code(rawValue: "conflict")
        public static let corruptState = Code(rawValue: "corrupt-state")
        /// A state, value or expression exceeds the engine's limits (see `WorkflowLimits`).
        public static let stateTooLarge = Code(rawValue: "state-too-large")
        /// The instance kept crashing or stopping its hosts and was faulted instead of loaded.
        public static let instanceQuarantined = Code(rawValue: "instance-quarantined")
        public static let storeBusy = Code(rawValue: "store-busy")
        public static let storeUnavailable = Code(rawValue: "store-unavailable")
        public static let migrationFailed = Code(rawValue: "migration-failed")
        public static let hostStopped = Code(rawValue: "host-stopped")
        public static let internalError = Code(rawValue: "internal-error")
        /// A request body over the server's limit.
        public static let payloadTooLarge = Code(rawValue: "payload-too-large")
        /// A request without the credentials the server asks for.
        public static let unauthorized = Code(rawValue: "unauthorized")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// How every front end shows it as JSON: `{"error": {"code": …, "message": …}}`.
    public var jsonObject: JSONValue {
        .object(["error": .object(["code": .string(code.rawValue), "message": .string(message)])])
    }

    /// The HTTP status this error answers with.
    public var httpStatus: Int {
        switch code {
        case .invalidInput, .invalidStoreURL, .invalidDefinition, .ambiguousID: 400
        case .instanceNotFound, .keyNotFound, .definitionNotFound, .storeNotFound, .noRoute: 404
        case .instanceLocked, .instanceFinished, .keyConflict, .conflict, .rejected, .instanceQuarantined,
            .incompatibleDefinition:
            409
        case .stateTooLarge, .payloadTooLarge: 413
        case .idempotencyKeyReused: 422
        case .unauthorized: 401
        case .timeout: 504
        case .storeBusy, .storeUnavailable, .hostStopped, .migrationFailed: 503
        default: 500
        }
    }

    /// Wraps any error the layers below throw; each maps to one code.
    public init(_ error: any Error) {
        switch error {
        case let error as ApplicationError:
            self = error
        case let error as InstanceStoreError:
            self.init(Self.code(for: error.code), error.message)
        case let error as HostError:
            self.init(Self.code(for: error.code), error.message)
        case let error as WorkflowError:
            let code: Code =
                switch error.code {
                case .invalidDefinition: .invalidDefinition
                case .corruptState, .unsupportedStateFormat: .corruptState
                case .stateTooLarge: .stateTooLarge
                case .definitionMismatch: .conflict
                case .incompatibleDefinition: .incompatibleDefinition
                default: .invalidInput
                }
            self.init(code, error.message)
        default:
            self.init(.internalError, String(describing: error))
        }
    }

    private static func code(for code: InstanceStoreError.Code) -> Code {
        switch code {
        case .instanceLocked: .instanceLocked
        case .instanceNotFound: .instanceNotFound
        case .keyNotFound: .keyNotFound
        case .keyConflict: .keyConflict
        case .idempotencyKeyReused: .idempotencyKeyReused
        case .duplicateRequest: .conflict
        case .lockLost, .versionConflict, .ownerExpired, .ownerNotFound, .messageNotFound: .conflict
        case .instanceFinished: .instanceFinished
        case .corruptState: .corruptState
        case .stateTooLarge: .stateTooLarge
        case .instanceQuarantined: .instanceQuarantined
        case .invalidStoreURL: .invalidStoreURL
        case .invalidRequest: .invalidInput
        case .storeUnavailable: .storeUnavailable
        case .storeBusy: .storeBusy
        case .migrationFailed: .migrationFailed
        }
    }

    private static func code(for code: HostError.Code) -> Code {
        switch code {
        case .definitionNotFound: .definitionNotFound
        case .invalidDefinition: .invalidDefinition
        case .noRoute: .noRoute
        case .instanceNotFound: .instanceNotFound
        case .keyNotFound: .keyNotFound
        case .hostStopped: .hostStopped
        case .tooManyInstances: .storeBusy
        default: .conflict
        }
    }
}
