import Foundation
import SteadfastCore

extension SQLInstanceCommands {
    /// What a save writes, encoded ahead of its transaction (see ``prepare(_:)``).
    public struct PreparedSave: Sendable {
        var state: EncodedState
        var history: SQLStatement?
    }

    /// The state and history row a save of the usual kind (not a completion) writes, encoded;
    /// throws what encoding refuses (a state past the size limit).
    public func prepare(_ request: SaveRequest) throws -> PreparedSave {
        let state = try encodedState(request.snapshot.state, of: request.instanceID)
        let history = Self.historyInsert(
            of: request.instanceID, version: request.expectedVersion + 1, request.history, state: state)
        return PreparedSave(state: state, history: history)
    }

    public func save(_ request: SaveRequest, prepared: PreparedSave? = nil, on db: any SQLConnection) throws
        -> SaveResult
    {
        let now = self.now
        let id = request.instanceID
        let snapshot = request.snapshot
        if request.definition != nil && request.lockAction == .complete {
            throw InstanceStoreError(
                .invalidRequest, "A completing save cannot change the instance's definition; save it first.",
                instanceID: id)
        }
        guard request.lockAction == .complete else {
            // The usual save is one statement: the update is a compare-and-set on the version, the
            // lock and the owner's lease, and tells which rows are attached.
            let prepared = try prepared ?? prepare(request)
            let state = prepared.state
            let stored = try writeState(request, state: state, now: now, on: db)
            if let definition = request.definition {
                try db.execute(
                    "UPDATE instances SET definition_name = ?, definition_version = ?, definition_fingerprint = ? "
                        + "WHERE id = ?",
                    [.text(definition.name), .text(definition.version), .text(definition.fingerprint), .uuid(id)])
            }
            try settleInbox(
                of: id, applied: request.appliedEntryIDs, rejected: request.rejectedEntries,
                poison: request.poisonEntries, now: now, on: db)
            try replaceAttachments(of: id, with: snapshot, stored: stored, on: db)
            if let history = prepared.history { try db.execute(history.sql, history.parameters) }
            return SaveResult(
                version: request.expectedVersion + 1, deleted: false,
                rejectedEntries: request.rejectedEntries.count + request.poisonEntries.count)
        }
        guard snapshot.status.isFinal else {
            throw InstanceStoreError(
                .invalidRequest,
                "A completing save needs a finished status, not \(snapshot.status.rawValue); save "
                    + "with keepLock or unlock instead, or set the final status.",
                instanceID: id
            )
        }
        // A completion may delete the instance rather than write it: check (and lock) first. The
        // size limit is on what the store keeps: a final state past it is refused only if kept
        // (and is not kept as a revision either).
        let state = snapshot.state.count <= options.maxStateSize ? try encodedState(snapshot.state, of: id) : nil
        let check = try checkSave(request, now: now, on: db)
        try settleInbox(
            of: id, applied: request.appliedEntryIDs, rejected: request.rejectedEntries,
            poison: request.poisonEntries, now: now, on: db)
        // Its own statement, after the check took the row lock: on PostgreSQL the check's snapshot
        // may predate an enqueue that committed while the check waited for that lock.
        let rejected = try rejectPendingInbox(of: id, status: snapshot.status, now: now, on: db)
        let rejectedEntries = rejected + request.rejectedEntries.count + request.poisonEntries.count
        try recordHistory(of: id, version: request.expectedVersion + 1, request.history, state: state, on: db)
        // A fault or a termination is never lost, and neither is an entry that was never applied
        // (rejected or poison, now or by an earlier save): only a clean end with nothing left
        // over is deleted under deleteAll.
        if snapshot.status == .completed || snapshot.status == .canceled, !check.leftOverInbox, rejectedEntries == 0,
            check.completionAction == .deleteAll
        {
            try deleteRows(of: id, on: db)
            return SaveResult(version: request.expectedVersion + 1, deleted: true)
        }
        _ = try writeState(request, state: state ?? encodedState(snapshot.state, of: id), now: now, on: db)
        try replaceAttachments(of: id, with: snapshot, stored: check.attachments, on: db)
        return SaveResult(version: request.expectedVersion + 1, deleted: false, rejectedEntries: rejectedEntries)
    }

    /// What a completing save needs to know of the stored instance.
    private struct SaveCheck {
        var attachments: StoredAttachments
        var completionAction: InstanceCompletionAction
        /// Entries an earlier save rejected or found poison (only the holder settles entries).
        var leftOverInbox: Bool
    }

    /// Locks the instance row and throws unless `request` may save: the owner holds the lock,
    /// its lease is live and the version is the stored one.
    @discardableResult
    private func checkSave(_ request: SaveRequest, now: Date, on db: any SQLConnection) throws -> SaveCheck {
        let check = Self.saveCheck(request, lockSuffix: db.dialect.lockRowSuffix)
        return try Self.validate(db.queryFirst(check.sql, check.parameters), of: request, now: now)
    }

    /// The statement of `checkSave`.
    private static func saveCheck(_ request: SaveRequest, lockSuffix: String) -> SQLStatement {
        SQLStatement(
            """
            SELECT i.version, i.lock_owner_id, o.lock_expires_at, \(StoredAttachments.columns()),
                (SELECT value FROM store_settings WHERE name = 'completion_action'),
                EXISTS (SELECT 1 FROM inbox WHERE instance_id = i.id AND state IN ('rejected', 'poison'))
            FROM instances i LEFT JOIN lock_owners o ON o.id = ? WHERE i.id = ?
            """ + lockSuffix,
            [.uuid(request.owner), .uuid(request.instanceID)])
    }

    /// What `checkSave`'s row says, or the error that forbids the save.
    private static func validate(_ row: SQLRow?, of request: SaveRequest, now: Date) throws -> SaveCheck {
        let id = request.instanceID
        guard let row else { throw InstanceStoreError.instanceNotFound(id) }
        guard try row.optionalUUID(1) == request.owner else { throw InstanceStoreError.lockLost(id) }
        guard let expiry = try row.optionalTime(2) else { throw InstanceStoreError.ownerNotFound(request.owner) }
        guard expiry > now else { throw InstanceStoreError.ownerExpired(request.owner, at: expiry) }
        let version = try row.int(0)
        guard version == request.expectedVersion else {
            throw InstanceStoreError.versionConflict(id, expected: request.expectedVersion, actual: version)
        }
        return SaveCheck(
            attachments: try StoredAttachments.read(row, from: 3),
            completionAction: try completionAction(stored: row.optionalText(6)),
            leftOverInbox: try row.bool(7))
    }

    /// A completion that deletes the instance, as statements that need no answer to be sent:
    /// the check, the rejection of what is still pending, and the deletion (a compare-and-set).
    /// Anything but a clean end under deleteAll (a refusal, an entry left over, another
    /// completion action) sends it the usual way.
    private func pipelinedCompletion(_ request: SaveRequest, dialect: any SQLDialect) -> SQLPipelined<SaveResult>? {
        let snapshot = request.snapshot
        guard snapshot.status == .completed || snapshot.status == .canceled, request.appliedEntryIDs.isEmpty,
            request.rejectedEntries.isEmpty, request.poisonEntries.isEmpty, request.definition == nil
        else { return nil }
        let now = self.now
        let id = request.instanceID
        let version = request.expectedVersion + 1
        guard let state = try? encodedState(snapshot.state, of: id) else { return nil }
        // The history goes in before the deletion: it reads the row's creation time.
        let history = [Self.historyInsert(of: id, version: version, request.history, state: state)].compactMap { $0 }
        let statements =
            [
                Self.saveCheck(request, lockSuffix: dialect.lockRowSuffix),
                SQLStatement(
                    "UPDATE inbox SET state = 'rejected', reason = ?, settled_at = ? "
                        + "WHERE instance_id = ? AND state = 'pending' RETURNING id",
                    [.text(Self.rejectionReason(snapshot.status)), .time(now), .uuid(id)]),
            ] + history
            + [
                Self.instanceDeletion(
                    of: id, where: " AND version = ? AND \(Self.heldBy) RETURNING id",
                    [.integer(request.expectedVersion), .uuid(request.owner)])
            ]
        return SQLPipelined(statements: statements) { rows in
            guard rows.count == statements.count, rows[1].isEmpty, rows.last?.count == 1,
                let check = try? Self.validate(rows[0].first, of: request, now: now),
                !check.leftOverInbox, check.completionAction == .deleteAll
            else { return nil }
            return SaveResult(version: version, deleted: true)
        }
    }

    /// "Held by the owner given": written so that no index on `lock_owner_id` can serve it, and
    /// the primary key finds the row. PostgreSQL otherwise chose the lock owner's index for a
    /// save and walked every instance that owner holds: 60 µs per save with 64 loaded, and
    /// worse the more a host holds.
    static let heldBy = "COALESCE(lock_owner_id, '') = ?"

    /// Writes the snapshot if `request` may save (compare-and-set on the version, the lock and
    /// the owner's lease); returns which rows were attached. When it may not, throws what
    /// `checkSave` finds wrong.
    private func writeState(
        _ request: SaveRequest, state: EncodedState, now: Date, on db: any SQLConnection
    ) throws -> StoredAttachments {
        let update = stateUpdate(request, state: state, now: now)
        guard let row = try db.queryFirst(update.sql, update.parameters) else {
            try checkSave(request, now: now, on: db)
            // Lost a race with another writer between the update and the check.
            throw InstanceStoreError.versionConflict(
                request.instanceID, expected: request.expectedVersion, actual: -1)
        }
        return try StoredAttachments.read(row, from: 0)
    }

    /// The update of `writeState`: it changes one row, or none when the save may not happen,
    /// and returns the attached-row flags.
    private func stateUpdate(_ request: SaveRequest, state: EncodedState, now: Date) -> SQLStatement {
        let id = request.instanceID
        let snapshot = request.snapshot
        // A save that keeps its lock leaves lock_owner_id out: only statements that set it fire
        // the PostgreSQL unlock notification's trigger.
        let unlocks = request.lockAction == .keepLock ? "" : "lock_owner_id = NULL, "
        return SQLStatement(
            """
            UPDATE instances SET
                status = ?, is_suspended = ?, version = ?, \(unlocks)next_timer_at = ?,
                state = ?, state_encoding = ?, state_size = ?, fault = ?, blocked_reason = ?, updated_at = ?,
                claims_since_save = 0
            WHERE id = ? AND version = ? AND \(Self.heldBy)
                AND EXISTS (SELECT 1 FROM lock_owners o WHERE o.id = ? AND o.lock_expires_at > ?)
            RETURNING \(StoredAttachments.columns(of: "instances"))
            """,
            [
                .text(snapshot.status.rawValue), .bool(snapshot.isSuspended), .integer(request.expectedVersion + 1),
                .optionalTime(snapshot.nextTimerAt), .blob(state.bytes), .text(state.encoding.rawValue),
                .integer(Int64(snapshot.state.count)), .optionalText(snapshot.fault),
                .optionalText(snapshot.blockedReason), .time(now),
                .uuid(id), .integer(request.expectedVersion), .uuid(request.owner), .uuid(request.owner), .time(now),
            ])
    }

    /// The save as statements that need no answer to be sent, when it is the usual kind: no
    /// inbox entries to settle, no correlation keys (a completion: see `pipelinedCompletion`).
    /// Bookmarks and promoted
    /// properties are replaced unread; a refusal, or rows found attached that the snapshot
    /// drops, sends it the usual way.
    public func pipelinedSave(_ request: SaveRequest, dialect: any SQLDialect) -> SQLPipelined<SaveResult>? {
        if request.lockAction == .complete { return pipelinedCompletion(request, dialect: dialect) }
        let snapshot = request.snapshot
        guard request.appliedEntryIDs.isEmpty, request.rejectedEntries.isEmpty,
            request.poisonEntries.isEmpty, snapshot.keys.isEmpty, request.definition == nil,
            let state = try? encodedState(snapshot.state, of: request.instanceID)
        else { return nil }
        let update = stateUpdate(request, state: state, now: now)
        let id = request.instanceID
        var statements = [update]
        if !snapshot.bookmarks.isEmpty {
            statements.append(SQLStatement("DELETE FROM bookmarks WHERE instance_id = ?", [.uuid(id)]))
            statements += Self.bookmarkInserts(of: id, snapshot.bookmarks)
        }
        if !snapshot.promotedProperties.isEmpty {
            statements.append(SQLStatement("DELETE FROM promoted_properties WHERE instance_id = ?", [.uuid(id)]))
            statements += Self.propertyInserts(of: id, snapshot.promotedProperties)
        }
        let version = request.expectedVersion + 1
        if let history = Self.historyInsert(of: id, version: version, request.history, state: state) {
            statements.append(history)
        }
        return SQLPipelined(statements: statements) { rows in
            guard let row = rows.first?.first else { return nil }
            let stored = try StoredAttachments.read(row, from: 0)
            guard !stored.keys, !stored.bookmarks || !snapshot.bookmarks.isEmpty,
                !stored.properties || !snapshot.promotedProperties.isEmpty
            else { return nil }
            return SaveResult(version: version, deleted: false)
        }
    }
}
