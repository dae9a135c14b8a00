import Foundation

extension SQLInstanceCommands {
    public func enqueueMessage(
        for id: UUID,
        operation: String,
        body: Data,
        on db: any SQLConnection
    ) throws -> InstanceMessage {
        let now = self.now
        let summary = try readSummary(id, on: db)
        guard !summary.status.isFinished else {
            throw InstanceStoreError(
                .invalidRequest,
                "Instance \(id) has finished (\(summary.status.rawValue)) and will never consume "
                    + "the message '\(operation)'; route it to a running instance.",
                instanceID: id
            )
        }
        guard
            let row = try db.queryFirst(
                """
                INSERT INTO messages (instance_id, operation, body, enqueued_at)
                VALUES (?, ?, ?, ?) RETURNING id
                """,
                [.uuid(id), .text(operation), .blob(body), .time(now)]
            )
        else {
            throw InstanceStoreError(
                .storeUnavailable,
                "The database returned no id for the new message; check the store's schema."
            )
        }
        return InstanceMessage(
            id: try row.int(0),
            instanceID: id,
            operation: operation,
            body: body,
            enqueuedAt: StoreTime.date(StoreTime.milliseconds(now))
        )
    }

    public func enqueueMessage(
        forKey key: InstanceKey,
        operation: String,
        body: Data,
        on db: any SQLConnection
    ) throws -> InstanceMessage {
        guard let id = try instanceID(forKey: key, on: db) else { throw InstanceStoreError.keyNotFound(key) }
        return try enqueueMessage(for: id, operation: operation, body: body, on: db)
    }

    public func pendingMessages(for id: UUID, on db: any SQLConnection) throws -> [InstanceMessage] {
        try db.query(
            "SELECT id, operation, body, enqueued_at FROM messages WHERE instance_id = ? ORDER BY id",
            [.uuid(id)]
        ).map {
            InstanceMessage(
                id: try $0.int(0),
                instanceID: id,
                operation: try $0.text(1),
                body: try $0.blob(2),
                enqueuedAt: try $0.time(3)
            )
        }
    }
}
