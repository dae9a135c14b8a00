import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// Loads and locks an instance. A thrown error rolls the transaction back; a returned
    /// failure (`instanceQuarantined`: the claim faulted the instance instead) must be thrown
    /// by the store only after the transaction commits, so the fault is kept.
    public func loadInstance(_ id: UUID, owner: UUID, on db: any SQLConnection) throws
        -> Result<LoadedInstance, InstanceStoreError>
    {
        let now = self.now
        _ = try requireLiveOwner(owner, now: now, on: db)
        // Twice at most: a claim that found the lock held, while the holder released it before
        // the summary below was read (concurrent writers), claims again under the row lock.
        for attempt in 0..<2 {
            switch try claimLock(of: id, for: owner, now: now, on: db) {
            case .claimed:
                return .success(try loaded(id, on: db))
            case .quarantined(let reason):
                return .failure(InstanceStoreError.instanceQuarantined(id, reason: reason))
            case .notClaimed:
                let summary = try readSummary(id, lock: true, on: db)
                if let lock = summary.liveLock(at: now) {
                    throw InstanceStoreError.instanceLocked(
                        id, hostID: lock.hostID, ownerID: lock.ownerID, until: lock.expiresAt)
                }
                if attempt == 1 { throw InstanceStoreError.lockLost(id) }
            }
        }
        throw InstanceStoreError.lockLost(id)
    }

    /// Loads the instance associated with `key` (see ``loadInstance(_:owner:on:)``).
    public func loadInstance(byKey key: InstanceKey, owner: UUID, on db: any SQLConnection) throws
        -> Result<LoadedInstance, InstanceStoreError>
    {
        guard let id = try instanceID(forKey: key, on: db) else {
            throw InstanceStoreError.keyNotFound(key)
        }
        return try loadInstance(id, owner: owner, on: db)
    }

    /// What a claim did.
    enum Claim {
        /// Another live owner holds the instance, or it is missing.
        case notClaimed
        /// The instance is locked to the new owner.
        case claimed
        /// Claimed once too often without a save: the claim faulted it (in place, unlocked)
        /// instead; the reason is the fault text.
        case quarantined(reason: String)
    }

    /// Locks the instance to `owner` if no other live owner holds it (compare-and-set, so it is
    /// safe without row locks). When the lock passes to a different owner (the previous one
    /// released nothing: it crashed, stopped, or the instance was unlocked), the instance's
    /// claim count goes up; past `options.quarantineAfter` the instance is faulted instead.
    ///
    /// Only a save (or a release by a live host) resets the count, never reaching idle: a
    /// message that crashes its host whenever it is applied stays pending, and the instance
    /// must still be stopped. The price: an instance held idle and unsaved on hosts that crash
    /// for other reasons is counted too.
    func claimLock(of id: UUID, for owner: UUID, now: Date, on db: any SQLConnection) throws -> Claim {
        let rows = try db.query(
            """
            UPDATE instances SET
                claims_since_save = CASE WHEN lock_owner_id = ? THEN claims_since_save ELSE claims_since_save + 1 END,
                lock_owner_id = ?
            WHERE id = ? AND (lock_owner_id IS NULL OR lock_owner_id = ? OR NOT EXISTS (
                SELECT 1 FROM lock_owners lo
                WHERE lo.id = instances.lock_owner_id AND lo.lock_expires_at > ?))
            RETURNING claims_since_save
            """,
            [.uuid(owner), .uuid(owner), .uuid(id), .uuid(owner), .time(now)]
        )
        guard let row = rows.first else { return .notClaimed }
        let claims = try row.int(0)
        let limit = options.quarantineAfter
        guard limit > 0, claims > Int64(limit) else { return .claimed }
        let reason =
            "crashed or stopped its host \(claims - 1) times without saving; quarantined (its state is kept: "
            + "inspect it, then delete or repair it)"
        try faultInPlace(id, reason: reason, now: now, on: db)
        return .quarantined(reason: reason)
    }

    /// Faults an instance without touching its state bytes or their encoding (an operator may
    /// repair them): status faulted with `reason`, unlocked, no timer, no open bookmarks, its
    /// pending inbox rejected, version bumped.
    func faultInPlace(_ id: UUID, reason: String, now: Date, on db: any SQLConnection) throws {
        try db.execute(
            """
            UPDATE instances SET
                status = 'faulted', fault = ?, lock_owner_id = NULL, next_timer_at = NULL, version = version + 1,
                claims_since_save = 0, blocked_reason = NULL, updated_at = ?
            WHERE id = ?
            """,
            [.text(reason), .time(now), .uuid(id)]
        )
        try db.execute("DELETE FROM bookmarks WHERE instance_id = ?", [.uuid(id)])
        _ = try rejectPendingInbox(of: id, status: .faulted, now: now, on: db)
    }

    /// Releases the lock without saving. A live host that releases an instance did not crash,
    /// so its claim count starts again.
    public func releaseLock(of id: UUID, owner: UUID, applied: [Int64], on db: any SQLConnection) throws -> Bool {
        let released =
            try db.execute(
                "UPDATE instances SET lock_owner_id = NULL, claims_since_save = 0 WHERE id = ? AND \(Self.heldBy)",
                [.uuid(id), .uuid(owner)]
            ) == 1
        if released { try settleInbox(of: id, applied: applied, rejected: [:], now: now, on: db) }
        return released
    }

    /// The claimed instance with its pending inbox; a row whose status this build does not know
    /// is refused (`corruptState`), never run.
    func loaded(_ id: UUID, on db: any SQLConnection) throws -> LoadedInstance {
        try loaded(try readInstance(id, on: db), on: db)
    }

    func loaded(_ record: InstanceRecord, on db: any SQLConnection) throws -> LoadedInstance {
        if let unreadable = record.summary.unreadable {
            throw InstanceStoreError(.corruptState, unreadable, instanceID: record.id)
        }
        return LoadedInstance(record: record, inbox: try inbox(for: record.id, pendingOnly: true, on: db))
    }
}
