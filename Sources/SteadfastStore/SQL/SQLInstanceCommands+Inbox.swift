import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// Stores an entry in the instance's inbox, whoever holds the instance. With a client id
    /// already used for this instance, stores nothing and returns the entry stored then.
    public func enqueue(
        _ command: InboxEntry.Command, for id: UUID, clientID: String?, on db: any SQLConnection
    ) throws -> InboxEntry {
        let now = self.now
        // The row lock orders this against a completing save, a delete, and another enqueue
        // with the same client id.
        let summary = try readSummary(id, lock: true, on: db)
        if let clientID, let existing = try inboxEntry(instance: id, clientID: clientID, on: db) {
            return existing
        }
        if let unreadable = summary.unreadable {
            throw InstanceStoreError(.corruptState, unreadable + " Nothing was stored.", instanceID: id)
        }
        guard !summary.status.isFinal else {
            throw InstanceStoreError(
                .instanceFinished,
                "Instance \(id) has already finished (\(summary.status.rawValue)); it takes no more messages or "
                    + "commands. Nothing was stored.",
                instanceID: id
            )
        }
        let (operation, body) = Self.columns(of: command)
        guard
            let row = try db.queryFirst(
                """
                INSERT INTO inbox (instance_id, kind, operation, body, client_id, state, enqueued_at)
                VALUES (?, ?, ?, ?, ?, 'pending', ?) RETURNING id
                """,
                [
                    .uuid(id), .text(command.kind), .optionalText(operation), .blob(body), .optionalText(clientID),
                    .time(now),
                ]
            )
        else {
            throw InstanceStoreError(
                .storeUnavailable, "The database returned no id for the new inbox entry; check the store's schema.")
        }
        return InboxEntry(
            id: try row.int(0), instanceID: id, command: command, clientID: clientID,
            enqueuedAt: StoreTime.date(StoreTime.milliseconds(now)))
    }

    public func enqueue(
        _ command: InboxEntry.Command, forKey key: InstanceKey, clientID: String?, on db: any SQLConnection
    ) throws -> InboxEntry {
        guard let id = try instanceID(forKey: key, on: db) else { throw InstanceStoreError.keyNotFound(key) }
        return try enqueue(command, for: id, clientID: clientID, on: db)
    }

    /// The instance's inbox, oldest first: only pending entries, or every entry it still has.
    public func inbox(for id: UUID, pendingOnly: Bool, on db: any SQLConnection) throws -> [InboxEntry] {
        try db.query(
            "SELECT \(Self.inboxColumns) FROM inbox WHERE instance_id = ?"
                + (pendingOnly ? " AND state = 'pending'" : "") + " ORDER BY id",
            [.uuid(id)]
        ).map(Self.inboxEntry)
    }

    /// One inbox entry by id; nil when it is gone (its instance was deleted).
    public func inboxEntry(_ entryID: Int64, on db: any SQLConnection) throws -> InboxEntry? {
        try db.queryFirst("SELECT \(Self.inboxColumns) FROM inbox WHERE id = ?", [.integer(entryID)])
            .map(Self.inboxEntry)
    }

    /// Pending entries newer than `after` for instances locked to `owner`, oldest first: how a
    /// host learns what arrived for the instances it holds.
    public func pendingInbox(lockedBy owner: UUID, after: Int64, on db: any SQLConnection) throws -> [InboxEntry] {
        try db.query(
            """
            SELECT \(Self.inboxColumns("m")) FROM inbox m JOIN instances i ON i.id = m.instance_id
            WHERE m.id > ? AND m.state = 'pending' AND i.lock_owner_id = ? ORDER BY m.id
            """,
            [.integer(after), .uuid(owner)]
        ).map(Self.inboxEntry)
    }

    /// The count of pending entries and the enqueue time of the oldest (the lowest id).
    public func inboxBacklog(on db: any SQLConnection) throws -> InboxBacklog {
        let row = try db.queryFirst(
            """
            SELECT count(*), (SELECT enqueued_at FROM inbox WHERE state = 'pending' ORDER BY id LIMIT 1)
            FROM inbox WHERE state = 'pending'
            """, [])
        guard let row else { return InboxBacklog(pending: 0, oldestEnqueuedAt: nil) }
        return InboxBacklog(
            pending: Int(try row.int(0)), oldestEnqueuedAt: row.isNull(1) ? nil : StoreTime.date(try row.int(1)))
    }

    /// Marks inbox entries applied, rejected or poison as part of a save; each must be pending
    /// for `id`.
    func settleInbox(
        of id: UUID, applied: [Int64], rejected: [Int64: String], poison: [Int64: String] = [:], now: Date,
        on db: any SQLConnection
    ) throws {
        let settled =
            applied.map { ($0, InboxEntry.State.applied, String?.none) }
            + rejected.sorted { $0.key < $1.key }.map { ($0.key, InboxEntry.State.rejected, Optional($0.value)) }
            + poison.sorted { $0.key < $1.key }.map { ($0.key, InboxEntry.State.poison, Optional($0.value)) }
        for (entryID, state, reason) in settled {
            let changed = try db.execute(
                """
                UPDATE inbox SET state = ?, reason = ?, settled_at = ?
                WHERE id = ? AND instance_id = ? AND state = 'pending'
                """,
                [.text(state.rawValue), .optionalText(reason), .time(now), .integer(entryID), .uuid(id)]
            )
            guard changed == 1 else { throw InstanceStoreError.messageNotFound(entryID, instance: id) }
        }
    }

    /// Rejects every entry still pending for a finished instance; returns how many there were.
    func rejectPendingInbox(of id: UUID, status: InstanceStatus, now: Date, on db: any SQLConnection) throws -> Int {
        try db.execute(
            "UPDATE inbox SET state = 'rejected', reason = ?, settled_at = ? WHERE instance_id = ? AND state = 'pending'",
            [.text(Self.rejectionReason(status)), .time(now), .uuid(id)]
        )
    }

    /// Why an entry still pending when its instance finished was rejected.
    static func rejectionReason(_ status: InstanceStatus) -> String {
        "the instance \(status.rawValue) before this was applied"
    }

    private func inboxEntry(instance id: UUID, clientID: String, on db: any SQLConnection) throws -> InboxEntry? {
        try db.queryFirst(
            "SELECT \(Self.inboxColumns) FROM inbox WHERE instance_id = ? AND client_id = ?",
            [.uuid(id), .text(clientID)]
        ).map(Self.inboxEntry)
    }

    static let inboxColumns = inboxColumns(nil)

    static func inboxColumns(_ table: String?) -> String {
        let prefix = table.map { "\($0)." } ?? ""
        return [
            "id", "instance_id", "kind", "operation", "body", "client_id", "state", "reason", "enqueued_at",
            "settled_at",
        ].map { prefix + $0 }.joined(separator: ", ")
    }

    /// The `operation` and `body` columns of a command (a reason is kept as the body's text).
    static func columns(of command: InboxEntry.Command) -> (String?, Data) {
        switch command {
        case .message(let operation, let body): (operation, body)
        case .suspend, .unsuspend, .abandon: (nil, Data())
        case .terminate(let reason), .cancel(let reason): (nil, Data(reason.utf8))
        }
    }

    static func inboxEntry(_ row: SQLRow) throws -> InboxEntry {
        let kind = try row.text(2)
        let body = try row.blob(4)
        let command: InboxEntry.Command
        switch kind {
        case "message": command = .message(operation: try row.optionalText(3) ?? "", body: body)
        case "suspend": command = .suspend
        case "unsuspend": command = .unsuspend
        case "terminate": command = .terminate(reason: String(decoding: body, as: UTF8.self))
        case "cancel": command = .cancel(reason: String(decoding: body, as: UTF8.self))
        case "abandon": command = .abandon
        default:
            throw InstanceStoreError(
                .corruptState,
                "Inbox entry \(try row.int(0)) has kind '\(kind)', which this build does not know; upgrade Steadfast.")
        }
        let stateText = try row.text(6)
        guard let state = InboxEntry.State(rawValue: stateText) else {
            throw InstanceStoreError(
                .corruptState,
                "Inbox entry \(try row.int(0)) has state '\(stateText)', which this build does not know; upgrade "
                    + "Steadfast.")
        }
        return InboxEntry(
            id: try row.int(0), instanceID: try row.uuid(1), command: command, clientID: try row.optionalText(5),
            state: state, reason: try row.optionalText(7), enqueuedAt: try row.time(8),
            settledAt: try row.optionalTime(9))
    }
}
