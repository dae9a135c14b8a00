import Foundation

/// Something sent to an instance and kept in its durable inbox until the host that runs the
/// instance applies it: a message for a Receive, or an operator's control command.
///
/// An entry is stored in one transaction whoever holds the instance; the host applies pending
/// entries in id order, one at a time, and the save that records the effect marks them applied
/// (or rejected, with the reason) in the same transaction. Entries are kept after they settle,
/// as the instance's history of applied commands, until the instance is deleted.
public struct InboxEntry: Sendable, Hashable, Identifiable {
    /// What the entry asks of the instance. Stored kinds: `message`, `suspend`, `unsuspend`,
    /// `terminate`, `cancel`, `abandon`.
    public enum Command: Sendable, Hashable {
        /// A message for the Receive waiting on `operation`; `body` is JSON.
        case message(operation: String, body: Data)
        /// Stop running timers and taking messages until unsuspended.
        case suspend
        /// Run again: overdue timers fire at once, waiting messages are applied in order.
        case unsuspend
        /// End the instance as terminated, with the reason.
        case terminate(reason: String)
        /// End the instance as canceled, with the reason.
        case cancel(reason: String)
        /// Discard what the host holding the instance has not saved, and release it: the
        /// instance goes on from its last save on whichever host loads it next.
        case abandon

        /// The stored kind: `message`, `suspend`, `unsuspend`, `terminate` or `cancel`.
        public var kind: String {
            switch self {
            case .message: "message"
            case .suspend: "suspend"
            case .unsuspend: "unsuspend"
            case .terminate: "terminate"
            case .cancel: "cancel"
            case .abandon: "abandon"
            }
        }

        /// The operation of a message; nil for a control command.
        public var operation: String? {
            if case .message(let operation, _) = self { return operation }
            return nil
        }

        /// Whether this is a control command (not a message).
        public var isControl: Bool { operation == nil }
    }

    /// Where the entry is in its life.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Waiting to be applied.
        case pending
        /// Applied by the save that recorded its effect.
        case applied
        /// Will never be applied (the instance finished first, or the message was refused by its
        /// Receive); `reason` says why.
        case rejected
        /// A message whose body cannot be read (not JSON, or nested past the engine's limits):
        /// never applied, kept with the reason for an operator to see (`wf history`).
        case poison
    }

    /// Store-assigned, increasing in arrival order.
    public var id: Int64
    public var instanceID: UUID
    public var command: Command
    /// The sender's id for the entry: the same client id sent twice to one instance is stored once.
    public var clientID: String?
    public var state: State
    /// Why a rejected entry was rejected.
    public var reason: String?
    public var enqueuedAt: Date
    /// When it was applied or rejected.
    public var settledAt: Date?

    public init(
        id: Int64, instanceID: UUID, command: Command, clientID: String? = nil, state: State = .pending,
        reason: String? = nil, enqueuedAt: Date, settledAt: Date? = nil
    ) {
        self.id = id
        self.instanceID = instanceID
        self.command = command
        self.clientID = clientID
        self.state = state
        self.reason = reason
        self.enqueuedAt = enqueuedAt
        self.settledAt = settledAt
    }
}
