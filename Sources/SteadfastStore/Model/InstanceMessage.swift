import Foundation

/// A message waiting for an instance (e.g. a correlated Receive). It stays pending until a save
/// names its id in `consumedMessageIDs`, so it is applied exactly once.
public struct InstanceMessage: Sendable, Hashable, Codable, Identifiable {
    /// Store-assigned, increasing in enqueue order.
    public var id: Int64
    public var instanceID: UUID
    /// The operation (bookmark) the message is for.
    public var operation: String
    public var body: Data
    public var enqueuedAt: Date

    public init(id: Int64, instanceID: UUID, operation: String, body: Data, enqueuedAt: Date) {
        self.id = id
        self.instanceID = instanceID
        self.operation = operation
        self.body = body
        self.enqueuedAt = enqueuedAt
    }
}
