import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// The insert of one save's history: one row holding its events, as version `version` of
    /// instance `id`; nil when there are none.
    static func historyInsert(of id: UUID, version: Int64, _ events: [HistoryEvent]) -> SQLStatement? {
        guard let first = events.first else { return nil }
        // Written directly (a save may carry dozens of events): [{"at":…,"detail":{…},"kind":"…"},…]
        var encoded = "["
        for (index, event) in events.enumerated() {
            encoded += index == 0 ? "{\"at\":" : ",{\"at\":"
            encoded += String(StoreTime.milliseconds(event.at))
            encoded += ",\"detail\":"
            encoded += JSONValue.object(event.detail).jsonText
            encoded += ",\"kind\":"
            encoded += JSONValue.string(event.kind.rawValue).jsonText
            encoded += "}"
        }
        encoded += "]"
        let ended = events.last { HistoryKind.final.contains($0.kind) }
        return SQLStatement(
            "INSERT INTO history (instance_id, version, recorded_at, ended_at, events) VALUES (?, ?, ?, ?, ?)",
            [.uuid(id), .integer(version), .time(first.at), .optionalTime(ended?.at), .text(encoded)])
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
        let rows = try db.query(
            "SELECT version, events FROM history WHERE instance_id = ? AND version >= ? ORDER BY version LIMIT ?",
            [.uuid(id), .integer(start.version), .integer(Int64(max(0, limit)))])
        var records: [HistoryRecord] = []
        for row in rows {
            let version = try row.int(0)
            for (ordinal, event) in try Self.events(row.text(1), of: id).enumerated()
            where HistoryPosition(version: version, ordinal: ordinal) > start {
                guard records.count < limit else { return records }
                records.append(HistoryRecord(instanceID: id, version: version, ordinal: ordinal, event: event))
            }
        }
        return records
    }

    /// A row's events; a row that does not decode is a `corruptState` error naming the instance.
    private static func events(_ text: String, of id: UUID) throws -> [HistoryEvent] {
        let damaged = InstanceStoreError(
            .corruptState,
            "A history row of instance \(id) cannot be read: its events are not as this build writes them.",
            instanceID: id)
        guard case .array(let items) = try? JSONValue.parse(text, what: "a history row") else { throw damaged }
        return try items.map { item in
            guard case .number(let at)? = item["at"], case .string(let kind)? = item["kind"],
                case .object(let detail)? = item["detail"]
            else { throw damaged }
            return HistoryEvent(at: StoreTime.date(Int64(at)), kind: HistoryKind(rawValue: kind), detail: detail)
        }
    }

    /// Deletes the history of up to `limit` instances that ended before `cutoff` and recorded
    /// nothing since; returns how many instances' history went.
    public func pruneHistory(endedBefore cutoff: Date, limit: Int, on db: any SQLConnection) throws -> Int {
        let ended = try db.query(
            """
            SELECT DISTINCT instance_id FROM history
            WHERE ended_at < ? AND NOT EXISTS (
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
