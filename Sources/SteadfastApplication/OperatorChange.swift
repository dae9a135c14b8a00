import Foundation
import SteadfastCore
import SteadfastStore

/// An operator's control commands applied to a stored instance without its definition: suspend
/// and unsuspend flip the flag; terminate and cancel end the state (its running activities,
/// bookmarks and timers go). Entries apply in arrival order, except that a message its Receive
/// takes now needs a host of the definition: suspend and unsuspend after it wait for that host
/// too, while terminate and cancel still end the instance (the message is then rejected, as
/// the instance ended first) so an operator can always stop an instance no host runs.
struct OperatorChange {
    private(set) var snapshot: InstanceSnapshot
    private(set) var applied: [Int64] = []
    /// The history of what was applied (recorded whatever the hosts' tracking profile).
    private(set) var history: [HistoryEvent] = []
    /// Whether a message that needs a host waits before the entries still to come.
    private var waitingForHost = false

    init(record: InstanceRecord) {
        snapshot = InstanceSnapshot(
            state: record.state, status: record.status, isSuspended: record.summary.isSuspended,
            nextTimerAt: record.summary.nextTimerAt, keys: record.keys, bookmarks: record.bookmarks,
            promotedProperties: record.promotedProperties, fault: record.summary.fault,
            blockedReason: record.summary.blockedReason)
    }

    /// Applies the entries it can, in order, at `now`.
    mutating func apply(_ entries: [InboxEntry], now: Date) {
        for entry in entries where !snapshot.status.isFinal {
            switch entry.command {
            case .message(let operation, _):
                // A message waits while the instance is suspended or no Receive takes it.
                let takenNow =
                    !snapshot.isSuspended && (snapshot.status == .running || snapshot.bookmarks.contains(operation))
                waitingForHost = waitingForHost || takenNow
                continue
            case .suspend where !waitingForHost:
                if !snapshot.isSuspended { record(.suspended, entry, now) }
                snapshot.isSuspended = true
            case .unsuspend where !waitingForHost:
                if snapshot.isSuspended { record(.unsuspended, entry, now) }
                snapshot.isSuspended = false
            case .suspend, .unsuspend:
                continue
            case .abandon:
                break  // no host holds it: nothing unsaved to discard
            case .terminate(let reason):
                end(as: .terminated, reason: reason)
                record(.terminated, entry, now, reason: reason)
            case .cancel(let reason):
                end(as: .canceled, reason: reason)
                record(.canceled, entry, now, reason: reason)
            }
            applied.append(entry.id)
        }
    }

    private mutating func record(_ kind: HistoryKind, _ entry: InboxEntry, _ now: Date, reason: String? = nil) {
        var detail: [String: JSONValue] = ["entry": .number(Double(entry.id)), "host": "operator (no host held it)"]
        if let reason { detail["reason"] = .string(reason) }
        history.append(HistoryEvent(at: now, kind: kind, detail: detail))
    }

    private mutating func end(as status: InstanceStatus, reason: String) {
        // A state that cannot be decoded still ends: its bytes are kept as they are.
        // (An ended state holds less than the decoded one, so it always encodes.)
        if let state = try? InstanceState.decode(snapshot.state),
            let ended = try? state.ended(as: status, reason: reason).encoded()
        {
            snapshot.state = ended
        }
        snapshot.status = status
        snapshot.isSuspended = false
        snapshot.nextTimerAt = nil
        snapshot.bookmarks = []
        if status == .terminated { snapshot.fault = snapshot.fault ?? reason }
    }
}
