import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// Conditions shared by runnable detection: no live owner holds the instance (binds now),
    /// and it is not finished.
    private static let candidateConditions = """
        \(InstanceRows.lockIsFree)
        AND i.status IN ('running', 'idle')
        """

    /// Work an unlocked instance has now (binds now): a control command waits in its inbox; or,
    /// when it is not suspended, it is `running` (saved mid-run by a host that then died), a
    /// timer is due, or a message waits for one of its open Receives. A message no open Receive
    /// takes waits without making the instance runnable, so it is never loaded in a loop.
    private static let hasWorkNow = """
        (EXISTS (SELECT 1 FROM inbox m WHERE m.instance_id = i.id AND m.state = 'pending' AND m.kind <> 'message')
        OR (i.is_suspended = 0 AND (
            i.status = 'running'
            OR (i.next_timer_at IS NOT NULL AND i.next_timer_at <= ?)
            OR EXISTS (
                SELECT 1 FROM inbox m JOIN bookmarks b ON b.instance_id = m.instance_id AND b.name = m.operation
                WHERE m.instance_id = i.id AND m.state = 'pending' AND m.kind = 'message'))))
        """

    /// Claims up to `limit` runnable instances of `definitions` (nil: any) for `owner` in one
    /// transaction (one fsync for the batch), earliest due first, and reads the earliest future
    /// timer with the same clock reading (so no timer falls due between the two).
    ///
    /// A claimed row that cannot be resumed (its state cannot be decoded, or it was claimed too
    /// often without a save) is faulted in place in the same transaction, its bytes kept, and
    /// reported in the batch's `faulted`; the rest of the batch is claimed normally.
    ///
    /// With a `lookahead`, timers due within it count as due (the host holds such an instance
    /// and fires its timer on time from memory), and the next due time is the earliest after it.
    public func tryLoadRunnableInstances(
        owner: UUID, limit: Int, definitions: Set<DefinitionIdentity>?, lookahead: Duration = .zero,
        on db: any SQLConnection
    ) throws -> RunnableBatch {
        let now = self.now
        let dueBy = now.addingTimeInterval(Double(StoreTime.milliseconds(lookahead)) / 1000)
        _ = try requireLiveOwner(owner, now: now, on: db)
        let hosted = DefinitionIdentity.filter(definitions)
        let candidates = try db.query(
            """
            SELECT i.id FROM instances i
            WHERE \(Self.candidateConditions) AND \(hosted.sql) AND \(Self.hasWorkNow)
            ORDER BY COALESCE(i.next_timer_at, i.updated_at), i.id
            LIMIT \(max(1, limit) + 8)\(db.dialect.claimRowsSuffix)
            """,
            [.time(now)] + hosted.parameters + [.time(dueBy)]
        )
        var claimed: [UUID] = []
        var faulted: [RunnableBatch.Faulted] = []
        for row in candidates where claimed.count + faulted.count < limit {
            let id = try row.uuid(0)
            switch try claimLock(of: id, for: owner, now: now, on: db) {
            case .notClaimed: continue
            case .claimed: claimed.append(id)
            case .quarantined(let reason): faulted.append(.init(id: id, reason: reason))
            }
        }
        let records = try readInstances(claimed, on: db)
        var loaded: [LoadedInstance] = []
        for id in claimed {
            switch records[id] {
            case .success(let record)?:
                loaded.append(try self.loaded(record, on: db))
            case .failure(let error)?:
                let reason = "cannot resume: \(error.message)"
                try faultInPlace(id, reason: reason, now: now, on: db)
                faulted.append(.init(id: id, reason: reason))
            case nil:
                continue
            }
        }
        return RunnableBatch(
            loaded: loaded, faulted: faulted,
            nextTimerDueTime: try nextTimerDueTime(
                definitions: definitions, now: now, after: dueBy, owner: owner, on: db))
    }

    /// Marks as blocked the instances with work now whose definition name a host with
    /// `definitions` runs, but not their exact version and content (edited without a new
    /// version, or a version no longer deployed): they wait, shown as blocked, instead of being
    /// faulted. Neither locked nor versioned; the next save of the instance clears the mark.
    public func markBlockedInstances(hosting definitions: Set<DefinitionIdentity>, on db: any SQLConnection) throws {
        let now = self.now
        let names = Set(definitions.map(\.name)).sorted()
        guard !names.isEmpty else { return }
        let hosted = DefinitionIdentity.filter(definitions)
        try db.execute(
            """
            UPDATE instances SET blocked_reason = 'waits for a host of its definition ' || definition_name
                || ' version ' || definition_version || ' (fingerprint ' || definition_fingerprint
                || '): the hosts of ' || definition_name || ' run other versions or content'
            WHERE id IN (
                SELECT i.id FROM instances i
                WHERE \(Self.candidateConditions) AND i.blocked_reason IS NULL
                AND i.definition_name IN (\(Self.placeholders(names.count))) AND NOT \(hosted.sql)
                AND \(Self.hasWorkNow))
            """,
            [.time(now)] + names.map(SQLValue.text) + hosted.parameters + [.time(now)]
        )
    }

    /// Whether an instance of `definitions` is runnable now (what detection would claim), read
    /// without claiming anything.
    public func hasRunnableInstances(definitions: Set<DefinitionIdentity>?, on db: any SQLConnection) throws -> Bool {
        let now = self.now
        let hosted = DefinitionIdentity.filter(definitions)
        return try db.queryFirst(
            """
            SELECT 1 FROM instances i
            WHERE \(Self.candidateConditions) AND \(hosted.sql) AND \(Self.hasWorkNow) LIMIT 1
            """,
            [.time(now)] + hosted.parameters + [.time(now)]
        ) != nil
    }

    /// The earliest future timer among unsuspended instances of `definitions` (nil: any) that no
    /// live owner holds.
    public func nextTimerDueTime(definitions: Set<DefinitionIdentity>?, on db: any SQLConnection) throws -> Date? {
        try nextTimerDueTime(definitions: definitions, now: now, on: db)
    }

    /// The earliest moment after `after` (default `now`) at which an instance becomes runnable,
    /// read at `now`: a timer falls due, or the lock of a live owner expires on an instance with
    /// work waiting (its host died: the round at that moment takes it over, with no period to
    /// wait). A lock expiry counts `after − now` late, as a timer within the lookahead counts
    /// early, so the round that wakes for it finds the lock expired. The locks of `owner` (the
    /// host asking) do not count: it runs those instances itself.
    func nextTimerDueTime(
        definitions: Set<DefinitionIdentity>?, now: Date, after: Date? = nil, owner: UUID? = nil,
        on db: any SQLConnection
    ) throws -> Date? {
        let hosted = DefinitionIdentity.filter(definitions)
        let after = after ?? now
        let row = try db.queryFirst(
            """
            SELECT MIN(due) FROM (
                SELECT MIN(i.next_timer_at) AS due FROM instances i
                WHERE \(Self.candidateConditions) AND i.is_suspended = 0 AND \(hosted.sql) AND i.next_timer_at > ?
                UNION ALL
                SELECT MIN(o.lock_expires_at) + ? AS due FROM instances i JOIN lock_owners o ON o.id = i.lock_owner_id
                WHERE o.lock_expires_at > ? AND o.id <> ? AND i.status IN ('running', 'idle') AND \(hosted.sql)
                AND \(Self.hasWorkNow)
            ) AS upcoming
            """,
            [.time(now)] + hosted.parameters + [.time(after)]
                + [
                    .integer(StoreTime.milliseconds(after) - StoreTime.milliseconds(now)), .time(now),
                    owner.map(SQLValue.uuid) ?? .text(""),
                ]
                + hosted.parameters + [.time(now)]
        )
        guard let row else { return nil }
        return try row.optionalTime(0)
    }
}
