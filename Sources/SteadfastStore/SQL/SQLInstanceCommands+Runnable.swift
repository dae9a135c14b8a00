import Foundation

extension SQLInstanceCommands {
    /// Conditions shared by runnable detection: no live owner holds the instance (binds now),
    /// it is not suspended and not finished.
    private static let candidateConditions = """
        \(InstanceRows.lockIsFree)
        AND i.is_suspended = 0 AND i.status IN ('running', 'idle')
        """

    /// Claims up to `limit` runnable instances for `owner` in one transaction (one fsync for the
    /// batch), earliest due first. Runnable: no live owner holds it, not suspended, not finished,
    /// and it has work now — a timer due, a message waiting, or status `running` (saved at a
    /// persist point or before it went idle, by a host that then died).
    public func tryLoadRunnableInstances(owner: UUID, limit: Int, on db: any SQLConnection) throws -> [LoadedInstance] {
        let now = self.now
        _ = try requireLiveOwner(owner, now: now, on: db)
        let candidates = try db.query(
            """
            SELECT i.id FROM instances i
            WHERE \(Self.candidateConditions)
            AND (i.status = 'running'
                OR (i.next_timer_at IS NOT NULL AND i.next_timer_at <= ?)
                OR EXISTS (SELECT 1 FROM messages m WHERE m.instance_id = i.id))
            ORDER BY COALESCE(i.next_timer_at, i.updated_at), i.id
            LIMIT \(max(1, limit) + 8)\(db.dialect.claimRowsSuffix)
            """,
            [.time(now), .time(now)]
        )
        var claimed: [LoadedInstance] = []
        for row in candidates where claimed.count < limit {
            let id = try row.uuid(0)
            if try claimLock(of: id, for: owner, now: now, on: db) {
                claimed.append(try loaded(id, on: db))
            }
        }
        return claimed
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
