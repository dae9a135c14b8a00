import Foundation
import SteadfastCore

/// Creates an instance locked to `owner` at `version` (1 for a new instance).
public struct CreateInstanceRequest: Sendable, Hashable {
    public var id: UUID
    /// 1 for a new instance. A later version brings back an instance whose row is gone (the
    /// completion action deleted it) from its history: the row keeps the creation time of the
    /// history's first record, so the history goes on where it stopped. The caller gives a
    /// version after the last one recorded.
    public var version: Int64
    public var owner: UUID
    public var definition: DefinitionIdentity
    public var snapshot: InstanceSnapshot
    /// With a key, the create is made once per key: a retry fails with `duplicateRequest`
    /// naming the instance the first one created (or `idempotencyKeyReused` when it asks for
    /// something else), for as long as the store keeps the key.
    public var idempotency: IdempotencyKey?
    /// The first history records (at `version`), in the create's transaction.
    public var history: [HistoryEvent]

    public init(
        id: UUID = UUID(),
        owner: UUID,
        definition: DefinitionIdentity,
        snapshot: InstanceSnapshot,
        idempotency: IdempotencyKey? = nil,
        history: [HistoryEvent] = [],
        version: Int64 = 1
    ) {
        self.id = id
        self.version = version
        self.owner = owner
        self.definition = definition
        self.snapshot = snapshot
        self.idempotency = idempotency
        self.history = history
    }
}

/// A client's key for one request (the HTTP API's `Idempotency-Key` header), with a hash of
/// what the request asked for, so the same key with another request is told apart from a retry.
public struct IdempotencyKey: Sendable, Hashable {
    /// The longest key accepted, in bytes.
    public static let maxLength = 255

    public var key: String
    public var requestHash: String

    public init(key: String, requestHash: String) {
        self.key = key
        self.requestHash = requestHash
    }
}
