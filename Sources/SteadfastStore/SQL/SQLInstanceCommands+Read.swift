import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func readInstance(_ id: UUID, on db: any SQLConnection) throws -> InstanceRecord {
        guard
            let row = try db.queryFirst(
                """
                SELECT \(InstanceRows.summaryColumns), \(InstanceRows.stateColumns)
                \(InstanceRows.summaryFrom) WHERE i.id = ?
                """,
                [.uuid(id)]
            )
        else {
            throw InstanceStoreError.instanceNotFound(id)
        }
        let summary = try InstanceRows.summary(row)
        let (state, encoding): (Data, StateEncoding)
        do {
            (state, encoding) = try StateCodec.decode(try row.blob(15), encoding: try row.text(16))
        } catch var error as InstanceStoreError {
            error.instanceID = id
            throw error
        }
        return InstanceRecord(
            summary: summary,
            state: state,
            stateEncoding: encoding,
            keys: try keys(of: id, on: db),
            bookmarks: Set(
                try db.query("SELECT name FROM bookmarks WHERE instance_id = ?", [.uuid(id)]).map { try $0.text(0) }
            ),
            promotedProperties: try promotedProperties(of: id, on: db)
        )
    }

    public func readSummary(_ id: UUID, on db: any SQLConnection) throws -> InstanceSummary {
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

    func promotedProperties(of id: UUID, on db: any SQLConnection) throws -> [String: String] {
        var properties: [String: String] = [:]
        for row in try db.query("SELECT name, value FROM promoted_properties WHERE instance_id = ?", [.uuid(id)]) {
            properties[try row.text(0)] = try row.text(1)
        }
        return properties
    }
}
