import Foundation
import SteadfastCore

/// The SELECT lists and row readers shared by the commands.
enum InstanceRows {
    /// Columns 0...14 of an instance summary; `i` is instances, `o` its lock owner.
    static let summaryColumns = """
        i.id, i.definition_name, i.definition_version, i.status, i.is_suspended, i.version,
        i.lock_owner_id, o.host_id, o.lock_expires_at, i.next_timer_at, i.fault, i.created_at,
        i.updated_at, i.definition_fingerprint, i.blocked_reason
        """
    static let summaryFrom = "FROM instances i LEFT JOIN lock_owners o ON o.id = i.lock_owner_id"

    /// Columns 15 and 16 follow the summary in record queries.
    static let stateColumns = "i.state, i.state_encoding"

    static func summary(_ row: SQLRow) throws -> InstanceSummary {
        var lock: InstanceLock?
        if let ownerID = try row.optionalUUID(6), !row.isNull(7) {
            lock = InstanceLock(ownerID: ownerID, hostID: try row.text(7), expiresAt: try row.time(8))
        }
        // A status this build does not know spoils only its own row: listed with the reason.
        var status = InstanceStatus.faulted
        var unreadable: String?
        let storedStatus = try row.text(3)
        do {
            status = try InstanceStatus(stored: storedStatus)
        } catch {
            unreadable = error.message
        }
        return InstanceSummary(
            id: try row.uuid(0),
            definition: DefinitionIdentity(
                name: try row.text(1), version: try row.text(2), fingerprint: try row.text(13)),
            status: status,
            isSuspended: try row.bool(4),
            version: try row.int(5),
            lock: lock,
            nextTimerAt: try row.optionalTime(9),
            fault: try row.optionalText(10),
            blockedReason: try row.optionalText(14),
            createdAt: try row.time(11),
            updatedAt: try row.time(12),
            unreadable: unreadable
        )
    }

    /// SQL for "no live owner holds instance `i`"; binds one parameter: now.
    static let lockIsFree = """
        (i.lock_owner_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM lock_owners lo WHERE lo.id = i.lock_owner_id AND lo.lock_expires_at > ?))
        """
}

extension DefinitionIdentity {
    /// SQL selecting instances of one of `definitions` (a row written before fingerprints were
    /// stored matches on name and version); nil definitions select every instance.
    static func filter(_ definitions: Set<DefinitionIdentity>?) -> (sql: String, parameters: [SQLValue]) {
        guard let definitions else { return ("1 = 1", []) }
        guard !definitions.isEmpty else { return ("1 = 0", []) }
        let sorted = definitions.sorted {
            ($0.name, $0.version, $0.fingerprint) < ($1.name, $1.version, $1.fingerprint)
        }
        let one = "(i.definition_name = ? AND i.definition_version = ? AND i.definition_fingerprint IN (?, ''))"
        return (
            "(" + Array(repeating: one, count: sorted.count).joined(separator: " OR ") + ")",
            sorted.flatMap { [SQLValue.text($0.name), .text($0.version), .text($0.fingerprint)] }
        )
    }
}
