import Foundation

extension InstanceStoreError {
    static func instanceNotFound(_ id: UUID) -> Self {
        Self(
            .instanceNotFound,
            "No instance \(id) is in the store. It may have completed and been deleted "
                + "(completion action deleteAll); check the id or list instances.",
            instanceID: id
        )
    }

    static func instanceLocked(_ id: UUID, hostID: String, ownerID: UUID, until: Date) -> Self {
        Self(
            .instanceLocked,
            "Instance \(id) is locked by host '\(hostID)' (owner \(ownerID)) until "
                + "\(until.ISO8601Format()), renewed while that host runs it. Retry once that host has unloaded "
                + "it or stopped; messages and commands can be sent to it meanwhile (they wait in its inbox).",
            instanceID: id,
            lockHostID: hostID,
            lockOwnerID: ownerID,
            lockedUntil: until
        )
    }

    static func keyNotFound(_ key: InstanceKey) -> Self {
        Self(
            .keyNotFound,
            "No instance is associated with key \(key). Check the key, or create an instance "
                + "with it.",
            key: key
        )
    }

    static func keyConflict(_ key: InstanceKey, heldBy other: UUID?, for id: UUID?) -> Self {
        let holder = other.map { "instance \($0)" } ?? "another instance"
        return Self(
            .keyConflict,
            "Key \(key) already belongs to \(holder). Use another key, or purge/delete that "
                + "instance first.",
            instanceID: id,
            key: key
        )
    }

    static func lockLost(_ id: UUID) -> Self {
        Self(
            .lockLost,
            "This owner no longer holds the lock on instance \(id); nothing was saved. Drop the "
                + "instance from memory and load it again.",
            instanceID: id
        )
    }

    static func versionConflict(_ id: UUID, expected: Int64, actual: Int64) -> Self {
        Self(
            .versionConflict,
            "Instance \(id) is at version \(actual), not \(expected); nothing was saved. Drop the "
                + "in-memory copy and load the instance again.",
            instanceID: id
        )
    }

    static func ownerExpired(_ owner: UUID, at expiry: Date) -> Self {
        Self(
            .ownerExpired,
            "Lock owner \(owner) expired at \(expiry.ISO8601Format()); its locks may have been "
                + "taken by other hosts. Create a new lock owner and reload your instances; renew "
                + "more often than the lock duration."
        )
    }

    static func ownerNotFound(_ owner: UUID) -> Self {
        Self(
            .ownerNotFound,
            "Lock owner \(owner) does not exist (never created, or deleted). Create a lock owner "
                + "first."
        )
    }

    static func messageNotFound(_ messageID: Int64, instance id: UUID) -> Self {
        Self(
            .messageNotFound,
            "Inbox entry \(messageID) is not pending for instance \(id) (already applied?); nothing "
                + "was saved. Reload the instance and its pending inbox.",
            instanceID: id
        )
    }

    static func stateTooLarge(_ id: UUID, size: Int, limit: Int) -> Self {
        Self(
            .stateTooLarge,
            "The state of instance \(id) is \(size) bytes, more than the store's limit of \(limit) bytes "
                + "(maxStateSize); nothing was saved. Keep less in the workflow's variables (store large "
                + "data elsewhere and keep a reference), or open the store with a higher maxStateSize.",
            instanceID: id
        )
    }

    static func instanceQuarantined(_ id: UUID, reason: String) -> Self {
        Self(.instanceQuarantined, "Instance \(id) \(reason); it is now faulted.", instanceID: id)
    }
}
