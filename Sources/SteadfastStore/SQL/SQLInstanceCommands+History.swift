import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// The insert of one save's history records (one statement for all of them), as version
    /// `version` of instance `id`; nil when there are none.
    static func historyInsert(of id: UUID, version: Int64, _ events: [HistoryEvent]) -> SQLStatement? {
        guard !events.isEmpty else { return nil }
        var parameters: [SQLValue] = []
        parameters.reserveCapacity(events.count * 6)
        for (ordinal, event) in events.enumerated() {
            parameters += [
                .uuid(id), .integer(version), .integer(Int64(ordinal)), .time(event.at), .text(event.kind.rawValue),
                .text(JSONValue.object(event.detail).jsonText),
            ]
        }
        let rows = Array(repeating: "(?, ?, ?, ?, ?, ?)", count: events.count).joined(separator: ", ")
        return SQLStatement(
            "INSERT INTO history (instance_id, version, ordinal, recorded_at, kind, detail) VALUES \(rows)", parameters)
    }

    func recordHistory(of id: UUID, version: Int64, _ events: [HistoryEvent], on db: any SQLConnection) throws {
        guard let insert = Self.historyInsert(of: id, version: version, events) else { return }
        try db.execute(insert.sql, insert.parameters)
    }

    /// An instance's history after `position` (from the start when nil), oldest first.
    public func history(
        of id: UUID, after position: HistoryPosition?, limit: Int, on db: any SQLConnection
    ) throws -> [HistoryRecord] {
        let start = position ?? HistoryPosition(version: 0, ordinal: -1)
        return try db.query(
            """
            SELECT version, ordinal, recorded_at, kind, detail FROM history
            WHERE instance_id = ? AND (version > ? OR (version = ? AND ordinal > ?))
            ORDER BY version, ordinal LIMIT ?
            """,
            [
                .uuid(id), .integer(start.version), .integer(start.version), .integer(Int64(start.ordinal)),
                .integer(Int64(max(0, limit))),
            ]
        ).map { row in
            let detailText = try row.text(4)
            guard case .object(let detail) = try JSONValue.parse(detailText, what: "a history record's detail") else {
                throw InstanceStoreError(
                    .corruptState, "A history record of instance \(id) has a detail that is not a JSON object.",
                    instanceID: id)
            }
            return HistoryRecord(
                instanceID: id, version: try row.int(0), ordinal: Int(try row.int(1)),
                event: HistoryEvent(
                    at: try row.time(2), kind: HistoryKind(rawValue: try row.text(3)), detail: detail))
        }
    }

    /// Deletes the history of up to `limit` instances whose history ended (a final record)
    /// before `cutoff`; returns how many instances' history went.
    public func pruneHistory(endedBefore cutoff: Date, limit: Int, on db: any SQLConnection) throws -> Int {
        let ended = try db.query(
            """
            SELECT DISTINCT instance_id FROM history
            WHERE kind IN ('completed', 'faulted', 'terminated', 'canceled') AND recorded_at < ?
                AND NOT EXISTS (
                    SELECT 1 FROM history later WHERE later.instance_id = history.instance_id AND later.recorded_at >= ?)
            LIMIT ?
            """,
            [.time(cutoff), .time(cutoff), .integer(Int64(max(0, limit)))]
        ).map { try $0.uuid(0) }
        for id in ended { try deleteHistory(of: id, on: db) }
        return ended.count
    }

    func deleteHistory(of id: UUID, on db: any SQLConnection) throws {
        try db.execute("DELETE FROM history WHERE instance_id = ?", [.uuid(id)])
    }
}
