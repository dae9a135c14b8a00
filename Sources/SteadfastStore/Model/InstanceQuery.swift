import Foundation
import SteadfastCore

/// Filters for listing instances (all optional; results are newest-updated first).
public struct InstanceQuery: Sendable, Hashable {
    /// Only instances whose id starts with this (case-insensitive hex digits and dashes).
    public var idPrefix: String?
    public var statuses: Set<InstanceStatus>?
    /// Only instances that are (true) or are not (false) suspended.
    public var suspended: Bool?
    /// Only instances that are (true) or are not (false) blocked on a definition no host runs.
    public var blocked: Bool?
    public var definitionName: String?
    /// With `definitionName`: only this version of it.
    public var definitionVersion: String?
    /// Only the instance associated with this correlation key.
    public var key: InstanceKey?
    /// Only instances whose promoted property `name` equals `value`.
    public var promotedProperty: PromotedPropertyFilter?
    /// Only instances last updated at or after this time.
    public var updatedAfter: Date?
    /// Only instances last updated before this time.
    public var updatedBefore: Date?
    /// Only instances after this one in the listing's order (a continuation from a previous page).
    public var after: InstanceCursor?
    public var limit: Int?

    public init(
        idPrefix: String? = nil,
        statuses: Set<InstanceStatus>? = nil,
        suspended: Bool? = nil,
        blocked: Bool? = nil,
        definitionName: String? = nil,
        key: InstanceKey? = nil,
        promotedProperty: PromotedPropertyFilter? = nil,
        updatedAfter: Date? = nil,
        updatedBefore: Date? = nil,
        after: InstanceCursor? = nil,
        limit: Int? = nil
    ) {
        self.idPrefix = idPrefix
        self.statuses = statuses
        self.suspended = suspended
        self.blocked = blocked
        self.definitionName = definitionName
        self.key = key
        self.promotedProperty = promotedProperty
        self.updatedAfter = updatedAfter
        self.updatedBefore = updatedBefore
        self.after = after
        self.limit = limit
    }

    public static let all = InstanceQuery()
}

/// A position in the instance listing (newest-updated first, then by id): the last instance of
/// a page, from which the next page goes on.
public struct InstanceCursor: Sendable, Hashable {
    public var updatedAt: Date
    public var id: UUID

    public init(updatedAt: Date, id: UUID) {
        self.updatedAt = updatedAt
        self.id = id
    }

    public init(after summary: InstanceSummary) {
        self.init(updatedAt: summary.updatedAt, id: summary.id)
    }
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
    /// Only instances of this definition.
    public var definitionName: String?

    public init(
        statuses: Set<InstanceStatus> = InstanceStatus.finished, updatedBefore: Date? = nil,
        definitionName: String? = nil
    ) {
        self.statuses = statuses
        self.updatedBefore = updatedBefore
        self.definitionName = definitionName
    }
}
