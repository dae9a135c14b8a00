import Foundation

extension SQLInstanceCommands {
    public func listInstances(_ query: InstanceQuery, on db: any SQLConnection) throws -> [InstanceSummary] {
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        if let statuses = query.statuses {
            guard !statuses.isEmpty else { return [] }
            conditions.append("i.status IN (\(Array(repeating: "?", count: statuses.count).joined(separator: ", ")))")
            parameters += statuses.map(\.rawValue).sorted().map(SQLValue.text)
        }
        if let name = query.definitionName {
            conditions.append("i.definition_name = ?")
            parameters.append(.text(name))
        }
        if let property = query.promotedProperty {
            conditions.append(
                "EXISTS (SELECT 1 FROM promoted_properties p WHERE p.instance_id = i.id AND p.name = ? AND p.value = ?)"
            )
            parameters += [.text(property.name), .text(property.value)]
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
        let summary = try readSummary(id, on: db)
        if let lock = summary.liveLock(at: now) {
            throw InstanceStoreError.instanceLocked(
                id, hostID: lock.hostID, ownerID: lock.ownerID, until: lock.expiresAt)
        }
        try deleteRows(of: id, on: db)
    }

    public func purgeInstances(_ filter: PurgeFilter, on db: any SQLConnection) throws -> Int {
        guard !filter.statuses.isEmpty else { return 0 }
        var sql = """
            SELECT i.id FROM instances i WHERE \(InstanceRows.lockIsFree)
            AND i.status IN (\(Array(repeating: "?", count: filter.statuses.count).joined(separator: ", ")))
            """
        var parameters: [SQLValue] = [.time(now)] + filter.statuses.map(\.rawValue).sorted().map(SQLValue.text)
        if let before = filter.updatedBefore {
            sql += " AND i.updated_at < ?"
            parameters.append(.time(before))
        }
        let ids = try db.query(sql, parameters).map { try $0.uuid(0) }
        for id in ids { try deleteRows(of: id, on: db) }
        return ids.count
    }
}
