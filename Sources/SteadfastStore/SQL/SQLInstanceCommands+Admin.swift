import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func listInstances(_ query: InstanceQuery, on db: any SQLConnection) throws -> [InstanceSummary] {
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        if let prefix = query.idPrefix?.lowercased() {
            guard prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return [] }
            conditions.append("i.id LIKE ?")
            parameters.append(.text(prefix + "%"))
        }
        if let statuses = query.statuses {
            guard !statuses.isEmpty else { return [] }
            conditions.append("i.status IN (\(Self.placeholders(statuses.count)))")
            parameters += statuses.map(\.rawValue).sorted().map(SQLValue.text)
        }
        if let suspended = query.suspended {
            conditions.append("i.is_suspended = ?")
            parameters.append(.bool(suspended))
        }
        if let blocked = query.blocked {
            conditions.append(blocked ? "i.blocked_reason IS NOT NULL" : "i.blocked_reason IS NULL")
        }
        if let name = query.definitionName {
            conditions.append("i.definition_name = ?")
            parameters.append(.text(name))
        }
        if let version = query.definitionVersion {
            conditions.append("i.definition_version = ?")
            parameters.append(.text(version))
        }
        if let key = query.key {
            conditions.append(
                "EXISTS (SELECT 1 FROM instance_keys k WHERE k.instance_id = i.id AND k.name = ? AND k.value = ?)")
            parameters += [.text(key.name), .text(key.value)]
        }
        if let property = query.promotedProperty {
            conditions.append(
                "EXISTS (SELECT 1 FROM promoted_properties p WHERE p.instance_id = i.id AND p.name = ? AND p.value = ?)"
            )
            parameters += [.text(property.name), .text(property.value)]
        }
        if let after = query.updatedAfter {
            conditions.append("i.updated_at >= ?")
            parameters.append(.time(after))
        }
        if let before = query.updatedBefore {
            conditions.append("i.updated_at < ?")
            parameters.append(.time(before))
        }
        if let cursor = query.after {
            conditions.append("(i.updated_at < ? OR (i.updated_at = ? AND i.id > ?))")
            parameters += [.time(cursor.updatedAt), .time(cursor.updatedAt), .uuid(cursor.id)]
        }
        var sql = "SELECT \(InstanceRows.summaryColumns) \(InstanceRows.summaryFrom)"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY i.updated_at DESC, i.id"
        if let limit = query.limit {
            sql += " LIMIT ?"
            parameters.append(.integer(Int64(max(0, limit))))
        }
        return try db.query(sql, parameters).map(InstanceRows.summary)
    }

    public func deleteInstance(_ id: UUID, on db: any SQLConnection) throws {
        let summary = try readSummary(id, lock: true, on: db)
        if let lock = summary.liveLock(at: now) {
            throw InstanceStoreError.instanceLocked(
                id, hostID: lock.hostID, ownerID: lock.ownerID, until: lock.expiresAt)
        }
        try deleteHistory(of: id, on: db)
        try deleteRows(of: id, on: db)
    }

    /// The instances `filter` selects that no live owner holds (what a purge would delete).
    public func purgeCandidates(_ filter: PurgeFilter, on db: any SQLConnection) throws -> [UUID] {
        try purgeCandidates(filter, locking: false, on: db)
    }

    /// With `locking`, the rows stay locked until the transaction ends, and rows another
    /// transaction has locked (a host claiming them) are skipped.
    private func purgeCandidates(_ filter: PurgeFilter, locking: Bool, on db: any SQLConnection) throws -> [UUID] {
        guard !filter.statuses.isEmpty else { return [] }
        var sql = """
            SELECT i.id FROM instances i WHERE \(InstanceRows.lockIsFree)
            AND i.status IN (\(Self.placeholders(filter.statuses.count)))
            """
        var parameters: [SQLValue] = [.time(now)] + filter.statuses.map(\.rawValue).sorted().map(SQLValue.text)
        if let before = filter.updatedBefore {
            sql += " AND i.updated_at < ?"
            parameters.append(.time(before))
        }
        if let name = filter.definitionName {
            sql += " AND i.definition_name = ?"
            parameters.append(.text(name))
        }
        sql += " ORDER BY i.updated_at, i.id" + (locking ? db.dialect.claimRowsSuffix : "")
        return try db.query(sql, parameters).map { try $0.uuid(0) }
    }

    public func purgeInstances(_ filter: PurgeFilter, on db: any SQLConnection) throws -> Int {
        let ids = try purgeCandidates(filter, locking: true, on: db)
        for id in ids {
            try deleteHistory(of: id, on: db)
            try deleteRows(of: id, on: db)
        }
        return ids.count
    }

    static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
