import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func createInstance(_ request: CreateInstanceRequest, on db: any SQLConnection) throws -> InstanceRecord {
        let now = StoreTime.date(StoreTime.milliseconds(self.now))
        let (insert, encoding) = try instanceInsert(request, now: now)
        let owner: LockOwner
        do {
            owner = try Self.liveOwner(request.owner, row: db.queryFirst(insert.sql, insert.parameters), now: now)
        } catch let error as SQLDriverError where error.kind == .uniqueViolation {
            throw InstanceStoreError(
                .invalidRequest,
                "An instance with id \(request.id) already exists; create with a new id, or load the existing "
                    + "instance.",
                instanceID: request.id)
        }
        try replaceAttachments(of: request.id, with: request.snapshot, stored: StoredAttachments(), on: db)
        return Self.created(request, owner: owner, encoding: encoding, now: now)
    }

    /// The create as statements that need no answer to be sent: the instance row and its
    /// attached rows. A refusal (a dead owner, a taken id or key) sends it the usual way, which
    /// names it.
    public func pipelinedCreate(_ request: CreateInstanceRequest) -> SQLPipelined<InstanceRecord>? {
        let now = StoreTime.date(StoreTime.milliseconds(self.now))
        guard let (insert, encoding) = try? instanceInsert(request, now: now) else { return nil }
        let id = request.id
        let snapshot = request.snapshot
        let attached =
            snapshot.keys.sorted { ($0.name, $0.value) < ($1.name, $1.value) }.map { Self.keyInsert(of: id, $0) }
            + Self.bookmarkInserts(of: id, snapshot.bookmarks)
            + Self.propertyInserts(of: id, snapshot.promotedProperties)
        return SQLPipelined(statements: [insert] + attached) { rows in
            let owner = try Self.liveOwner(request.owner, row: rows.first?.first, now: now)
            return Self.created(request, owner: owner, encoding: encoding, now: now)
        }
    }

    /// The insert of a new instance row; it returns its lock owner's host, lock duration and
    /// lock expiry (nulls when there is no such owner), for `liveOwner`.
    private func instanceInsert(_ request: CreateInstanceRequest, now: Date) throws -> (SQLStatement, StateEncoding) {
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
        let insert = SQLStatement(
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
        return (insert, encoding)
    }

    /// What was just written, without reading it back.
    private static func created(
        _ request: CreateInstanceRequest, owner: LockOwner, encoding: StateEncoding, now: Date
    ) -> InstanceRecord {
        let snapshot = request.snapshot
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
}
