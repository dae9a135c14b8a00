import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func readInstance(_ id: UUID, on db: any SQLConnection) throws -> InstanceRecord {
        guard let read = try readInstances([id], on: db)[id] else { throw InstanceStoreError.instanceNotFound(id) }
        return try read.get()
    }

    /// Reads many instances with one query per table: each present id maps to its record, or to
    /// the error its row gives (a state that cannot be decompressed), so one bad row spoils only
    /// itself. Ids with no instance are absent.
    public func readInstances(_ ids: [UUID], on db: any SQLConnection) throws
        -> [UUID: Result<InstanceRecord, InstanceStoreError>]
    {
        guard !ids.isEmpty else { return [:] }
        let list = "(\(Self.placeholders(ids.count)))"
        let idValues = ids.map(SQLValue.uuid)
        var keys: [UUID: Set<InstanceKey>] = [:]
        for row in try db.query(
            "SELECT instance_id, name, value FROM instance_keys WHERE instance_id IN \(list)", idValues)
        {
            keys[try row.uuid(0), default: []].insert(InstanceKey(name: try row.text(1), jsonValue: try row.text(2)))
        }
        var bookmarks: [UUID: Set<String>] = [:]
        for row in try db.query("SELECT instance_id, name FROM bookmarks WHERE instance_id IN \(list)", idValues) {
            bookmarks[try row.uuid(0), default: []].insert(try row.text(1))
        }
        var properties: [UUID: [String: String]] = [:]
        for row in try db.query(
            "SELECT instance_id, name, value FROM promoted_properties WHERE instance_id IN \(list)", idValues)
        {
            properties[try row.uuid(0), default: [:]][try row.text(1)] = try row.text(2)
        }
        var records: [UUID: Result<InstanceRecord, InstanceStoreError>] = [:]
        for row in try db.query(
            "SELECT \(InstanceRows.summaryColumns), \(InstanceRows.stateColumns) \(InstanceRows.summaryFrom) "
                + "WHERE i.id IN \(list)",
            idValues)
        {
            let summary = try InstanceRows.summary(row)
            let id = summary.id
            do {
                let (state, encoding) = try StateCodec.decode(
                    try row.blob(15), encoding: try row.text(16), maxSize: options.maxStateSize)
                records[id] = .success(
                    InstanceRecord(
                        summary: summary, state: state, stateEncoding: encoding, keys: keys[id] ?? [],
                        bookmarks: bookmarks[id] ?? [], promotedProperties: properties[id] ?? [:]))
            } catch var error as InstanceStoreError {
                error.instanceID = id
                records[id] = .failure(error)
            }
        }
        return records
    }

    /// The instance's summary; with `lock`, its row stays locked until the transaction ends
    /// (where the database has row locks), so a command can check it and then write.
    public func readSummary(_ id: UUID, lock: Bool = false, on db: any SQLConnection) throws -> InstanceSummary {
        if lock && !db.dialect.lockRowSuffix.isEmpty {
            // Locked first, read after: a row lock that waited for another writer re-reads only
            // the locked row, not the rows joined to it (PostgreSQL), so the summary is read by a
            // statement of its own, which sees that writer's commit whole.
            _ = try db.query("SELECT 1 FROM instances i WHERE i.id = ?" + db.dialect.lockRowSuffix, [.uuid(id)])
        }
        guard
            let row = try db.queryFirst(
                "SELECT \(InstanceRows.summaryColumns) \(InstanceRows.summaryFrom) WHERE i.id = ?",
                [.uuid(id)]
            )
        else {
            throw InstanceStoreError.instanceNotFound(id)
        }
        return try InstanceRows.summary(row)
    }

    public func instanceID(forKey key: InstanceKey, on db: any SQLConnection) throws -> UUID? {
        try db.queryFirst(
            "SELECT instance_id FROM instance_keys WHERE name = ? AND value = ?",
            [.text(key.name), .text(key.value)]
        )?.uuid(0)
    }

    func keys(of id: UUID, on db: any SQLConnection) throws -> Set<InstanceKey> {
        Set(
            try db.query("SELECT name, value FROM instance_keys WHERE instance_id = ?", [.uuid(id)]).map {
                InstanceKey(name: try $0.text(0), jsonValue: try $0.text(1))
            }
        )
    }
}
