import Foundation

extension SQLInstanceCommands {
    public func loadInstance(_ id: UUID, owner: UUID, on db: any SQLConnection) throws -> LoadedInstance {
        let now = self.now
        _ = try requireLiveOwner(owner, now: now, on: db)
        guard try claimLock(of: id, for: owner, now: now, on: db) else {
            let summary = try readSummary(id, on: db)
            if let lock = summary.liveLock(at: now) {
                throw InstanceStoreError.instanceLocked(
                    id,
                    hostID: lock.hostID,
                    ownerID: lock.ownerID,
                    until: lock.expiresAt
                )
            }
            throw InstanceStoreError.lockLost(id)
        }
        return try loaded(id, on: db)
    }

    public func loadInstance(byKey key: InstanceKey, owner: UUID, on db: any SQLConnection) throws -> LoadedInstance {
        guard let id = try instanceID(forKey: key, on: db) else {
            throw InstanceStoreError.keyNotFound(key)
        }
        return try loadInstance(id, owner: owner, on: db)
    }

    /// Locks the instance to `owner` if no other live owner holds it (compare-and-set, so it is
    /// safe without row locks). False when the instance is missing or locked by another owner.
    func claimLock(of id: UUID, for owner: UUID, now: Date, on db: any SQLConnection) throws -> Bool {
        let changed = try db.execute(
            """
            UPDATE instances SET lock_owner_id = ?
            WHERE id = ? AND (lock_owner_id IS NULL OR lock_owner_id = ? OR NOT EXISTS (
                SELECT 1 FROM lock_owners lo
                WHERE lo.id = instances.lock_owner_id AND lo.lock_expires_at > ?))
            """,
            [.uuid(owner), .uuid(id), .uuid(owner), .time(now)]
        )
        return changed == 1
    }

    public func releaseLock(of id: UUID, owner: UUID, applied: [Int64], on db: any SQLConnection) throws -> Bool {
        let released =
            try db.execute(
                "UPDATE instances SET lock_owner_id = NULL WHERE id = ? AND lock_owner_id = ?",
                [.uuid(id), .uuid(owner)]
            ) == 1
        if released { try settleInbox(of: id, applied: applied, rejected: [:], now: now, on: db) }
        return released
    }

    func loaded(_ id: UUID, on db: any SQLConnection) throws -> LoadedInstance {
        LoadedInstance(record: try readInstance(id, on: db), inbox: try inbox(for: id, pendingOnly: true, on: db))
    }
}
