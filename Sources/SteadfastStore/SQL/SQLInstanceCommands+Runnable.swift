import Foundation

extension SQLInstanceCommands {
    /// Conditions shared by runnable detection: no live owner holds the instance (binds now),
    /// it is not suspended and not finished.
    private static let candidateConditions = """
        \(InstanceRows.lockIsFree)
        AND i.is_suspended = 0 AND i.status IN ('running', 'idle')
        """

    public func tryLoadRunnableInstance(owner: UUID, on db: any SQLConnection) throws -> LoadedInstance? {
        let now = self.now
        _ = try requireLiveOwner(owner, now: now, on: db)
        let candidates = try db.query(
            """
            SELECT i.id FROM instances i
            WHERE \(Self.candidateConditions)
            AND ((i.next_timer_at IS NOT NULL AND i.next_timer_at <= ?)
                OR EXISTS (SELECT 1 FROM messages m WHERE m.instance_id = i.id))
            ORDER BY COALESCE(i.next_timer_at, i.updated_at), i.id
            LIMIT 8\(db.dialect.claimRowsSuffix)
            """,
            [.time(now), .time(now)]
        )
        for row in candidates {
            let id = try row.uuid(0)
            if try claimLock(of: id, for: owner, now: now, on: db) {
                return try loaded(id, on: db)
            }
        }
        return nil
    }

    public func nextTimerDueTime(on db: any SQLConnection) throws -> Date? {
        let now = self.now
        let row = try db.queryFirst(
            """
            SELECT MIN(i.next_timer_at) FROM instances i
            WHERE \(Self.candidateConditions) AND i.next_timer_at > ?
            """,
            [.time(now), .time(now)]
        )
        guard let row else { return nil }
        return try row.optionalTime(0)
    }
}
