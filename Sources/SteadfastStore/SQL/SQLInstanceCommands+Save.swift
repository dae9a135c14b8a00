import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    public func save(_ request: SaveRequest, on db: any SQLConnection) throws -> SaveResult {
        let now = self.now
        let id = request.instanceID
        // One statement checks the lock, the owner's lease and the version, tells which rows are
        // attached, and locks the instance row (the holder alone changes what is attached).
        guard
            let row = try db.queryFirst(
                """
                SELECT i.version, i.lock_owner_id, o.lock_expires_at, \(StoredAttachments.columns)
                FROM instances i LEFT JOIN lock_owners o ON o.id = ? WHERE i.id = ?
                """ + db.dialect.lockRowSuffix,
                [.uuid(request.owner), .uuid(id)])
        else { throw InstanceStoreError.instanceNotFound(id) }
        guard try row.optionalUUID(1) == request.owner else { throw InstanceStoreError.lockLost(id) }
        guard let expiry = try row.optionalTime(2) else { throw InstanceStoreError.ownerNotFound(request.owner) }
        guard expiry > now else { throw InstanceStoreError.ownerExpired(request.owner, at: expiry) }
        let version = try row.int(0)
        guard version == request.expectedVersion else {
            throw InstanceStoreError.versionConflict(id, expected: request.expectedVersion, actual: version)
        }
        let snapshot = request.snapshot
        if request.lockAction == .complete && !snapshot.status.isFinal {
            throw InstanceStoreError(
                .invalidRequest,
                "A completing save needs a finished status, not \(snapshot.status.rawValue); save "
                    + "with keepLock or unlock instead, or set the final status.",
                instanceID: id
            )
        }
        try settleInbox(
            of: id, applied: request.appliedEntryIDs, rejected: request.rejectedEntries,
            poison: request.poisonEntries, now: now, on: db)
        let newVersion = request.expectedVersion + 1
        var rejected = 0
        if request.lockAction == .complete {
            rejected = try rejectPendingInbox(of: id, status: snapshot.status, now: now, on: db)
            // A fault or a termination is never lost, and neither is an entry that was never
            // applied (rejected or poison, now or by an earlier save): only a clean end with
            // nothing left over is deleted under deleteAll.
            if snapshot.status == .completed || snapshot.status == .canceled {
                let row = try db.queryFirst(
                    """
                    SELECT (SELECT value FROM store_settings WHERE name = 'completion_action'),
                        EXISTS (SELECT 1 FROM inbox WHERE instance_id = ? AND state IN ('rejected', 'poison'))
                    """, [.uuid(id)])
                let leftOver = try row?.bool(1) ?? false
                if try !leftOver && Self.completionAction(stored: row?.optionalText(0)) == .deleteAll {
                    try deleteRows(of: id, on: db)
                    return SaveResult(version: newVersion, deleted: true)
                }
            }
        }
        guard snapshot.state.count <= options.maxStateSize else {
            throw InstanceStoreError.stateTooLarge(id, size: snapshot.state.count, limit: options.maxStateSize)
        }
        let (bytes, encoding) = try codec.encode(snapshot.state)
        let keepsLock = request.lockAction == .keepLock
        let changed = try db.execute(
            """
            UPDATE instances SET
                status = ?, is_suspended = ?, version = ?, lock_owner_id = ?, next_timer_at = ?,
                state = ?, state_encoding = ?, state_size = ?, fault = ?, blocked_reason = ?, updated_at = ?,
                claims_since_save = 0
            WHERE id = ? AND version = ? AND lock_owner_id = ?
            """,
            [
                .text(snapshot.status.rawValue), .bool(snapshot.isSuspended), .integer(newVersion),
                keepsLock ? .uuid(request.owner) : .null, .optionalTime(snapshot.nextTimerAt),
                .blob(bytes), .text(encoding.rawValue), .integer(Int64(snapshot.state.count)),
                .optionalText(snapshot.fault), .optionalText(snapshot.blockedReason), .time(now),
                .uuid(id), .integer(request.expectedVersion), .uuid(request.owner),
            ]
        )
        guard changed == 1 else {
            // Lost a race with another writer between the check and the update.
            throw InstanceStoreError.versionConflict(id, expected: request.expectedVersion, actual: -1)
        }
        try replaceAttachments(of: id, with: snapshot, stored: try StoredAttachments.read(row, from: 3), on: db)
        return SaveResult(
            version: newVersion, deleted: false,
            rejectedEntries: rejected + request.rejectedEntries.count + request.poisonEntries.count)
    }
}
