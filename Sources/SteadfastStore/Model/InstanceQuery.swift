import Foundation

/// Filters for listing instances (all optional; results are newest-updated first).
public struct InstanceQuery: Sendable, Hashable {
    public var statuses: Set<InstanceStatus>?
    public var definitionName: String?
    /// Only instances whose promoted property `name` equals `value`.
    public var promotedProperty: PromotedPropertyFilter?
    public var limit: Int?

    public init(
        statuses: Set<InstanceStatus>? = nil,
        definitionName: String? = nil,
        promotedProperty: PromotedPropertyFilter? = nil,
        limit: Int? = nil
    ) {
        self.statuses = statuses
        self.definitionName = definitionName
        self.promotedProperty = promotedProperty
        self.limit = limit
    }

    public static let all = InstanceQuery()
}

public struct PromotedPropertyFilter: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Which instances `purge` removes: finished ones by default; never instances locked by a live
/// owner.
public struct PurgeFilter: Sendable, Hashable {
    public var statuses: Set<InstanceStatus>
    /// Only instances last updated before this time.
    public var updatedBefore: Date?

    public init(statuses: Set<InstanceStatus> = InstanceStatus.finished, updatedBefore: Date? = nil) {
        self.statuses = statuses
        self.updatedBefore = updatedBefore
    }
}
