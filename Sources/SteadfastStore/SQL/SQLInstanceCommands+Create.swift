import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func createInstance(_ request: CreateInstanceRequest, on db: any SQLConnection) throws -> InstanceRecord {
        let now = StoreTime.date(StoreTime.milliseconds(self.now))
        let (insert, state) = try instanceInsert(request, now: now)
        if let idempotency = request.idempotency { try claim(idempotency, for: request.id, now: now, on: db) }
        let owner: LockOwner
        let createdAt: Date
        do {
            let row = try db.queryFirst(insert.sql, insert.parameters)
            owner = try Self.liveOwner(request.owner, row: row, now: now)
            createdAt = try row?.time(3) ?? now  // a restored row keeps its first creation time
        } catch let error as SQLDriverError where error.kind == .uniqueViolation {
            throw InstanceStoreError(
                .invalidRequest,
                "An instance with id \(request.id) already exists; create with a new id, or load the existing "
                    + "instance.",
                instanceID: request.id)
        }
        try replaceAttachments(of: request.id, with: request.snapshot, stored: StoredAttachments(), on: db)
        try recordHistory(
            of: request.id, version: request.version, request.history, state: state,
            createdAt: request.version == 1 ? now : nil, on: db)
        return Self.created(request, owner: owner, encoding: state.encoding, createdAt: createdAt, now: now)
    }

    /// The create as statements that need no answer to be sent: the instance row and its
    /// attached rows. A refusal (a dead owner, a taken id or key) sends it the usual way, which
    /// names it.
    public func pipelinedCreate(_ request: CreateInstanceRequest) -> SQLPipelined<InstanceRecord>? {
        guard request.idempotency == nil, request.version == 1 else { return nil }
        let now = StoreTime.date(StoreTime.milliseconds(self.now))
        guard let (insert, state) = try? instanceInsert(request, now: now) else { return nil }
        let id = request.id
        let snapshot = request.snapshot
        let attached =
            snapshot.keys.sorted { ($0.name, $0.value) < ($1.name, $1.value) }.map { Self.keyInsert(of: id, $0) }
            + Self.bookmarkInserts(of: id, snapshot.bookmarks)
            + Self.propertyInserts(of: id, snapshot.promotedProperties)
            + [Self.historyInsert(of: id, version: 1, request.history, state: state, createdAt: now)].compactMap { $0 }
        return SQLPipelined(statements: [insert] + attached) { rows in
            let owner = try Self.liveOwner(request.owner, row: rows.first?.first, now: now)
            return Self.created(request, owner: owner, encoding: state.encoding, createdAt: now, now: now)
        }
    }

    /// Records an idempotency key for the instance being created, in the create's transaction;
    /// throws `duplicateRequest` or `idempotencyKeyReused` when a live key is already recorded.
    /// An expired one is taken over, and a few other expired keys are deleted.
    private func claim(_ idempotency: IdempotencyKey, for id: UUID, now: Date, on db: any SQLConnection) throws {
        guard !idempotency.key.isEmpty, idempotency.key.utf8.count <= IdempotencyKey.maxLength else {
            throw InstanceStoreError(
                .invalidRequest,
                "An idempotency key must be 1 to \(IdempotencyKey.maxLength) bytes long, not "
                    + "\(idempotency.key.utf8.count).")
        }
        let cutoff = StoreTime.milliseconds(now) - StoreTime.milliseconds(options.idempotencyKeyRetention)
        // Concurrent creates with one key: the later waits for the earlier to commit (the
        // primary key), then finds the key live and updates nothing.
        let claimed = try db.queryFirst(
            """
            INSERT INTO idempotency_keys (key, instance_id, request_hash, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET
                instance_id = excluded.instance_id, request_hash = excluded.request_hash,
                created_at = excluded.created_at
            WHERE idempotency_keys.created_at < ?
            RETURNING instance_id
            """,
            [
                .text(idempotency.key), .uuid(id), .text(idempotency.requestHash), .time(now), .integer(cutoff),
            ])
        guard claimed == nil else {
            try db.execute(
                """
                DELETE FROM idempotency_keys WHERE key IN (
                    SELECT key FROM idempotency_keys WHERE created_at < ? ORDER BY created_at LIMIT 16)
                """,
                [.integer(cutoff)])
            return
        }
        let row = try db.queryFirst(
            "SELECT instance_id, request_hash FROM idempotency_keys WHERE key = ?", [.text(idempotency.key)])
        guard let row else {
            throw InstanceStoreError(
                .storeUnavailable, "The idempotency key '\(idempotency.key)' could not be recorded; retry the request.")
        }
        let existing = try row.uuid(0)
        guard try row.text(1) == idempotency.requestHash else {
            throw InstanceStoreError(
                .idempotencyKeyReused,
                "The idempotency key '\(idempotency.key)' was used for a different request (it created instance "
                    + "\(existing.lowercasedText)); use a new key for a new request.",
                instanceID: existing)
        }
        throw InstanceStoreError(
            .duplicateRequest,
            "A create with the idempotency key '\(idempotency.key)' was made already: it created instance "
                + "\(existing.lowercasedText).",
            instanceID: existing)
    }

    /// The insert of a new instance row; it returns its lock owner's host, lock duration and
    /// lock expiry (nulls when there is no such owner), for `liveOwner`.
    private func instanceInsert(_ request: CreateInstanceRequest, now: Date) throws -> (SQLStatement, EncodedState) {
        let snapshot = request.snapshot
        if snapshot.status.isFinal {
            throw InstanceStoreError(
                .invalidRequest,
                "A new instance cannot start \(snapshot.status.rawValue); create it running or idle.",
                instanceID: request.id
            )
        }
        let state = try encodedState(snapshot.state, of: request.id)
        let insert = SQLStatement(
            """
            INSERT INTO instances (
                id, definition_name, definition_version, status, is_suspended, version,
                lock_owner_id, next_timer_at, state, state_encoding, state_size, fault,
                created_at, updated_at, definition_fingerprint, blocked_reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                COALESCE((SELECT created_at FROM history WHERE instance_id = ? AND version = 1 AND ? > 1), ?), ?, ?, ?)
            RETURNING
                (SELECT host_id FROM lock_owners WHERE id = lock_owner_id),
                (SELECT lock_duration_ms FROM lock_owners WHERE id = lock_owner_id),
                (SELECT lock_expires_at FROM lock_owners WHERE id = lock_owner_id),
                created_at
            """,
            [
                .uuid(request.id), .text(request.definition.name), .text(request.definition.version),
                .text(snapshot.status.rawValue), .bool(snapshot.isSuspended), .integer(request.version),
                .uuid(request.owner), .optionalTime(snapshot.nextTimerAt), .blob(state.bytes),
                .text(state.encoding.rawValue), .integer(Int64(snapshot.state.count)), .optionalText(snapshot.fault),
                .uuid(request.id), .integer(request.version), .time(now), .time(now),
                .text(request.definition.fingerprint), .optionalText(snapshot.blockedReason),
            ]
        )
        return (insert, state)
    }

    /// What was just written, without reading it back.
    private static func created(
        _ request: CreateInstanceRequest, owner: LockOwner, encoding: StateEncoding, createdAt: Date, now: Date
    ) -> InstanceRecord {
        let snapshot = request.snapshot
        let summary = InstanceSummary(
            id: request.id, definition: request.definition, status: snapshot.status,
            isSuspended: snapshot.isSuspended, version: request.version,
            lock: InstanceLock(ownerID: owner.id, hostID: owner.hostID, expiresAt: owner.lockExpiresAt),
            nextTimerAt: snapshot.nextTimerAt.map { StoreTime.date(StoreTime.milliseconds($0)) },
            fault: snapshot.fault, blockedReason: snapshot.blockedReason, createdAt: createdAt, updatedAt: now)
        return InstanceRecord(
            summary: summary, state: snapshot.state, stateEncoding: encoding, keys: snapshot.keys,
            bookmarks: snapshot.bookmarks, promotedProperties: snapshot.promotedProperties)
    }
}
