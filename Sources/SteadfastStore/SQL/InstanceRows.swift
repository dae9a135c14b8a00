import Foundation

/// The SELECT lists and row readers shared by the commands.
enum InstanceRows {
    /// Columns 0...12 of an instance summary; `i` is instances, `o` its lock owner.
    static let summaryColumns = """
        i.id, i.definition_name, i.definition_version, i.status, i.is_suspended, i.version,
        i.lock_owner_id, o.host_id, o.lock_expires_at, i.next_timer_at, i.fault, i.created_at,
        i.updated_at
        """
    static let summaryFrom = "FROM instances i LEFT JOIN lock_owners o ON o.id = i.lock_owner_id"

    /// Columns 13 and 14 follow the summary in record queries.
    static let stateColumns = "i.state, i.state_encoding"

    static func summary(_ row: SQLRow) throws -> InstanceSummary {
        var lock: InstanceLock?
        if let ownerID = try row.optionalUUID(6), !row.isNull(7) {
            lock = InstanceLock(ownerID: ownerID, hostID: try row.text(7), expiresAt: try row.time(8))
        }
        return InstanceSummary(
            id: try row.uuid(0),
            definition: DefinitionIdentity(name: try row.text(1), version: try row.text(2)),
            status: try InstanceStatus(stored: try row.text(3)),
            isSuspended: try row.bool(4),
            version: try row.int(5),
            lock: lock,
            nextTimerAt: try row.optionalTime(9),
            fault: try row.optionalText(10),
            createdAt: try row.time(11),
            updatedAt: try row.time(12)
        )
    }

    /// SQL for "no live owner holds instance `i`"; binds one parameter: now.
    static let lockIsFree = """
        (i.lock_owner_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM lock_owners lo WHERE lo.id = i.lock_owner_id AND lo.lock_expires_at > ?))
        """
}

extension InstanceSummary {
    /// The lock, if it is still live at `now`.
    func liveLock(at now: Date) -> InstanceLock? {
        guard let lock, lock.expiresAt > now else { return nil }
        return lock
    }
}
