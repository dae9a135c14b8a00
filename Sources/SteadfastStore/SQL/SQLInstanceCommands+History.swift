import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// The insert of one save's history: one row holding its events, as version `version` of
    /// instance `id`, keyed by the instance's creation time — `createdAt` for a create, else
    /// read from its row (so it goes before a deletion of the row); nil when there are none.
    static func historyInsert(
        of id: UUID, version: Int64, _ events: [HistoryEvent], state: EncodedState?, createdAt: Date? = nil
    ) -> SQLStatement? {
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
        let values: [SQLValue] = [
            .integer(version), .time(first.at), .optionalTime(ended?.at), .text(encoded),
            state.map { .blob($0.bytes) } ?? .null, .optionalText(state?.encoding.rawValue), .uuid(id),
        ]
        let columns =
            "INSERT INTO history (version, recorded_at, ended_at, events, state, state_encoding, instance_id, "
            + "created_at) "
        if let createdAt {
            return SQLStatement(columns + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values + [.time(createdAt)])
        }
        return SQLStatement(columns + "SELECT ?, ?, ?, ?, ?, ?, id, created_at FROM instances WHERE id = ?", values)
    }

    func recordHistory(
        of id: UUID, version: Int64, _ events: [HistoryEvent], state: EncodedState?, createdAt: Date? = nil,
        on db: any SQLConnection
    ) throws {
        guard let insert = Self.historyInsert(of: id, version: version, events, state: state, createdAt: createdAt)
        else { return }
        try db.execute(insert.sql, insert.parameters)
    }

    /// The state version `version` of instance `id` was saved with (its revision), decoded; nil
    /// when that save recorded no history (or retention removed it).
    public func revision(of id: UUID, version: Int64, on db: any SQLConnection) throws -> Data? {
        let row = try db.queryFirst(
            """
            SELECT state, state_encoding FROM history
            WHERE created_at = \(Self.historyCreatedAt) AND instance_id = ? AND version = ?
            """,
            [.uuid(id), .uuid(id), .uuid(id), .integer(version)])
        guard let row, let encoding = try row.optionalText(1) else { return nil }
        return try StateCodec.decode(try row.blob(0), encoding: encoding, maxSize: options.maxStateSize).0
    }

    /// A state to write, encoded (compressed) as the store's options say; refused past
    /// `maxStateSize` like any state.
    func encodedState(_ state: Data, of id: UUID) throws -> EncodedState {
        guard state.count <= options.maxStateSize else {
            throw InstanceStoreError.stateTooLarge(id, size: state.count, limit: options.maxStateSize)
        }
        let (bytes, encoding) = try codec.encode(state)
        return EncodedState(bytes: bytes, encoding: encoding)
    }

    /// The creation time that keys an instance's history: from its row, or once the row is
    /// gone, from its first history record.
    private static let historyCreatedAt = """
        COALESCE((SELECT created_at FROM instances WHERE id = ?),
            (SELECT created_at FROM history WHERE instance_id = ? AND version = 1))
        """

    /// An instance's history after `position` (from the start when nil), oldest first.
    public func history(
        of id: UUID, after position: HistoryPosition?, limit: Int, on db: any SQLConnection
    ) throws -> [HistoryRecord] {
        let start = position ?? HistoryPosition(version: 0, ordinal: -1)
        let rows = try db.query(
            """
            SELECT version, events FROM history
            WHERE created_at = \(Self.historyCreatedAt) AND instance_id = ? AND version >= ?
            ORDER BY version LIMIT ?
            """,
            [.uuid(id), .uuid(id), .uuid(id), .integer(start.version), .integer(Int64(max(0, limit)))])
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

    /// Ids with history that start with `prefix`: one first record per instance, so one entry
    /// of the `history_first` index each.
    public func historyInstanceIDs(idPrefix prefix: String, limit: Int, on db: any SQLConnection) throws -> [UUID] {
        let prefix = prefix.lowercased()
        guard prefix.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return [] }
        return try db.query(
            "SELECT instance_id FROM history WHERE version = 1 AND instance_id LIKE ? LIMIT ?",
            [.text(prefix + "%"), .integer(Int64(max(0, limit)))]
        ).map { try $0.uuid(0) }
    }

    /// A row's events; a row that does not decode is a `corruptState` error naming the instance.
    private static func events(_ text: String, of id: UUID) throws -> [HistoryEvent] {
        let damaged = InstanceStoreError(
            .corruptState,
            "A history row of instance \(id) cannot be read: its events are not as this build writes them.",
            instanceID: id)
        guard case .array(let items) = try? JSONValue.parse(text, what: "a history row") else { throw damaged }
        return try items.flatMap { item in
            guard case .number(let at)? = item["at"], case .string(let kind)? = item["kind"],
                case .object(let detail)? = item["detail"]
            else { throw damaged }
            return HistoryEvent(at: StoreTime.date(Int64(at)), kind: HistoryKind(rawValue: kind), detail: detail)
                .expanded
        }
    }

    /// Deletes the history of up to `limit` instances that ended before `cutoff`: it recorded
    /// nothing since it ended (a rewind after the end keeps it), or nothing since `cutoff` and
    /// no live instance has it (one brought back that ended again without a record of it);
    /// returns how many instances' history went.
    public func pruneHistory(endedBefore cutoff: Date, limit: Int, on db: any SQLConnection) throws -> Int {
        let ended = try db.query(
            """
            SELECT DISTINCT created_at, instance_id FROM history h
            WHERE ended_at < ? AND (
                NOT EXISTS (
                    SELECT 1 FROM history later
                    WHERE later.created_at = h.created_at AND later.instance_id = h.instance_id
                        AND later.version > h.version)
                OR (NOT EXISTS (
                        SELECT 1 FROM history later
                        WHERE later.created_at = h.created_at AND later.instance_id = h.instance_id
                            AND later.recorded_at >= ?)
                    AND NOT EXISTS (
                        SELECT 1 FROM instances i WHERE i.id = h.instance_id AND i.status IN ('running', 'idle'))))
            LIMIT ?
            """,
            [.time(cutoff), .time(cutoff), .integer(Int64(max(0, limit)))]
        )
        for row in ended {
            try db.execute(
                "DELETE FROM history WHERE created_at = ? AND instance_id = ?", [row[0], .uuid(try row.uuid(1))])
        }
        return ended.count
    }

    /// Deletes an instance's history; before its row, whose creation time finds it.
    func deleteHistory(of id: UUID, on db: any SQLConnection) throws {
        try db.execute(
            "DELETE FROM history WHERE created_at = \(Self.historyCreatedAt) AND instance_id = ?",
            [.uuid(id), .uuid(id), .uuid(id)])
    }
}

/// A state as it is stored: its bytes and their encoding.
struct EncodedState: Sendable {
    var bytes: Data
    var encoding: StateEncoding
}
