import Foundation

extension SQLInstanceCommands {
    public func createLockOwner(hostID: String, lockDuration: Duration, on db: any SQLConnection) throws
        -> LockOwner
    {
        let now = self.now
        let durationMS = StoreTime.milliseconds(lockDuration)
        guard durationMS > 0 else {
            throw InstanceStoreError(
                .invalidRequest,
                "A lock duration must be positive (got \(lockDuration)); pass the renewal period "
                    + "plus a grace, e.g. 60 seconds."
            )
        }
        let owner = LockOwner(
            id: UUID(),
            hostID: hostID,
            lockDuration: lockDuration,
            lockExpiresAt: StoreTime.date(StoreTime.milliseconds(now) + durationMS)
        )
        try db.execute(
            """
            INSERT INTO lock_owners (id, host_id, lock_duration_ms, lock_expires_at, created_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            [.uuid(owner.id), .text(hostID), .integer(durationMS), .time(owner.lockExpiresAt), .time(now)]
        )
        try deleteExpiredOwners(now: now, on: db)
        return owner
    }

    public func renewLockOwner(_ ownerID: UUID, on db: any SQLConnection) throws -> LockOwner {
        let now = self.now
        let owner = try requireLiveOwner(ownerID, now: now, on: db)
        let durationMS = StoreTime.milliseconds(owner.lockDuration)
        let expires = StoreTime.date(StoreTime.milliseconds(now) + durationMS)
        try db.execute(
            "UPDATE lock_owners SET lock_expires_at = ? WHERE id = ?",
            [.time(expires), .uuid(ownerID)]
        )
        try deleteExpiredOwners(now: now, on: db)
        return LockOwner(id: owner.id, hostID: owner.hostID, lockDuration: owner.lockDuration, lockExpiresAt: expires)
    }

    /// Idempotent: deleting an owner that does not exist does nothing. The owner's host is live
    /// and released its instances (it did not crash), so their claim counts start again.
    public func deleteLockOwner(_ ownerID: UUID, on db: any SQLConnection) throws {
        try db.execute(
            "UPDATE instances SET lock_owner_id = NULL, claims_since_save = 0 WHERE lock_owner_id = ?",
            [.uuid(ownerID)])
        try db.execute("DELETE FROM lock_owners WHERE id = ?", [.uuid(ownerID)])
    }

    /// Deletes the owners of crashed hosts: those whose lock expired more than
    /// `options.expiredOwnerRetention` ago and that no instance row names (an instance still
    /// naming one shows who held it last, until another owner claims it).
    func deleteExpiredOwners(now: Date, on db: any SQLConnection) throws {
        let cutoff = StoreTime.milliseconds(now) - StoreTime.milliseconds(options.expiredOwnerRetention)
        try db.execute(
            """
            DELETE FROM lock_owners WHERE lock_expires_at < ?
            AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.lock_owner_id = lock_owners.id)
            """,
            [.integer(cutoff)]
        )
    }

    /// The owner, if it exists and its lock has not expired at `now`.
    func requireLiveOwner(_ ownerID: UUID, now: Date, on db: any SQLConnection) throws -> LockOwner {
        try Self.liveOwner(
            ownerID,
            row: db.queryFirst(
                "SELECT host_id, lock_duration_ms, lock_expires_at FROM lock_owners WHERE id = ?", [.uuid(ownerID)]),
            now: now)
    }

    /// The owner a row of host id, lock duration and lock expiry describes; throws unless it
    /// exists (a row whose host id is not null) and its lease is live.
    static func liveOwner(_ ownerID: UUID, row: SQLRow?, now: Date) throws -> LockOwner {
        guard let row, let hostID = try row.optionalText(0) else { throw InstanceStoreError.ownerNotFound(ownerID) }
        let owner = LockOwner(
            id: ownerID, hostID: hostID, lockDuration: .milliseconds(try row.int(1)), lockExpiresAt: try row.time(2))
        guard owner.lockExpiresAt > now else {
            throw InstanceStoreError.ownerExpired(ownerID, at: owner.lockExpiresAt)
        }
        return owner
    }
}
