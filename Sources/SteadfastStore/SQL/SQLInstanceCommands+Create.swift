import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func createInstance(_ request: CreateInstanceRequest, on db: any SQLConnection) throws -> InstanceRecord {
        let now = StoreTime.date(StoreTime.milliseconds(self.now))
        let snapshot = request.snapshot
        if snapshot.status.isFinal {
            throw InstanceStoreError(
                .invalidRequest,
                "A new instance cannot start \(snapshot.status.rawValue); create it running or idle.",
                instanceID: request.id
            )
        }
        guard snapshot.state.count <= options.maxStateSize else {
            throw InstanceStoreError.stateTooLarge(request.id, size: snapshot.state.count, limit: options.maxStateSize)
        }
        let (bytes, encoding) = try codec.encode(snapshot.state)
        let owner: LockOwner
        do {
            owner = try insertInstance(request, bytes: bytes, encoding: encoding, now: now, on: db)
        } catch let error as SQLDriverError where error.kind == .uniqueViolation {
            throw InstanceStoreError(
                .invalidRequest,
                "An instance with id \(request.id) already exists; create with a new id, or load the existing "
                    + "instance.",
                instanceID: request.id)
        }
        try replaceAttachments(of: request.id, with: snapshot, stored: StoredAttachments(), on: db)
        // What was just written, without reading it back.
        let summary = InstanceSummary(
            id: request.id, definition: request.definition, status: snapshot.status,
            isSuspended: snapshot.isSuspended, version: 1,
            lock: InstanceLock(ownerID: owner.id, hostID: owner.hostID, expiresAt: owner.lockExpiresAt),
            nextTimerAt: snapshot.nextTimerAt.map { StoreTime.date(StoreTime.milliseconds($0)) },
            fault: snapshot.fault, blockedReason: snapshot.blockedReason, createdAt: now, updatedAt: now)
        return InstanceRecord(
            summary: summary, state: snapshot.state, stateEncoding: encoding, keys: snapshot.keys,
            bookmarks: snapshot.bookmarks, promotedProperties: snapshot.promotedProperties)
    }

    /// Inserts the row and returns its lock's owner; throws (and the caller's transaction rolls
    /// the row back) unless the owner is live. One statement: the owner is read with the insert.
    private func insertInstance(
        _ request: CreateInstanceRequest, bytes: Data, encoding: StateEncoding, now: Date, on db: any SQLConnection
    ) throws -> LockOwner {
        let snapshot = request.snapshot
        let row = try db.queryFirst(
            """
            INSERT INTO instances (
                id, definition_name, definition_version, status, is_suspended, version,
                lock_owner_id, next_timer_at, state, state_encoding, state_size, fault,
                created_at, updated_at, definition_fingerprint, blocked_reason)
            VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING
                (SELECT host_id FROM lock_owners WHERE id = lock_owner_id),
                (SELECT lock_duration_ms FROM lock_owners WHERE id = lock_owner_id),
                (SELECT lock_expires_at FROM lock_owners WHERE id = lock_owner_id)
            """,
            [
                .uuid(request.id), .text(request.definition.name), .text(request.definition.version),
                .text(snapshot.status.rawValue), .bool(snapshot.isSuspended), .uuid(request.owner),
                .optionalTime(snapshot.nextTimerAt), .blob(bytes), .text(encoding.rawValue),
                .integer(Int64(snapshot.state.count)), .optionalText(snapshot.fault), .time(now), .time(now),
                .text(request.definition.fingerprint), .optionalText(snapshot.blockedReason),
            ]
        )
        return try Self.liveOwner(request.owner, row: row, now: now)
    }
}
