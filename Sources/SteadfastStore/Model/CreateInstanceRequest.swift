import Foundation
import SteadfastCore

/// Creates an instance locked to `owner` at version 1.
public struct CreateInstanceRequest: Sendable, Hashable {
    public var id: UUID
    public var owner: UUID
    public var definition: DefinitionIdentity
    public var snapshot: InstanceSnapshot

    public init(
        id: UUID = UUID(),
        owner: UUID,
        definition: DefinitionIdentity,
        snapshot: InstanceSnapshot
    ) {
        self.id = id
        self.owner = owner
        self.definition = definition
        self.snapshot = snapshot
    }
}
