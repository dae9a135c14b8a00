import ArgumentParser
import Foundation
import SteadfastCore
import SteadfastStore

/// `wf suspend ID`: keeps an instance from being picked up by runnable-instance detection.
struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Suspend an instance: hosts no longer run it for due timers or waiting messages.",
        discussion: "It stays in the store and can be shown; `wf unsuspend` lets hosts run it again."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The instance id.", valueName: "ID"))
    var id: String

    func run() async throws {
        try await InstanceControl.setSuspended(true, id: id, storeOptions: storeOptions)
    }
}

/// `wf unsuspend ID`: lets hosts run a suspended instance again.
struct Unsuspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unsuspend an instance: hosts run it again when a timer is due or a message waits."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The instance id.", valueName: "ID"))
    var id: String

    func run() async throws {
        try await InstanceControl.setSuspended(false, id: id, storeOptions: storeOptions)
    }
}

/// `wf terminate ID [--reason TEXT]`: ends an instance as `terminated`.
struct Terminate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Terminate an instance: it ends as terminated; its bookmarks and timers are removed.",
        discussion: """
            The store's completion action then applies: with deleteAll (the default) the instance is \
            deleted; with --completion-action deleteNothing it is kept for query until `wf purge`.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The instance id.", valueName: "ID"))
    var id: String

    @Option(name: .long, help: ArgumentHelp("Why, recorded as the termination reason.", valueName: "TEXT"))
    var reason: String = "terminated by an operator (wf terminate)"

    func run() async throws {
        try await InstanceControl.end(id: id, as: .terminated, reason: reason, storeOptions: storeOptions)
    }
}

/// `wf cancel ID [--reason TEXT]`: ends an instance as `canceled`.
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel an instance: it ends as canceled; its bookmarks and timers are removed.",
        discussion: """
            The store's completion action then applies: with deleteAll (the default) the instance is \
            deleted; with --completion-action deleteNothing it is kept for query until `wf purge`.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The instance id.", valueName: "ID"))
    var id: String

    @Option(name: .long, help: ArgumentHelp("Why, recorded with the instance.", valueName: "TEXT"))
    var reason: String = "canceled by an operator (wf cancel)"

    func run() async throws {
        try await InstanceControl.end(id: id, as: .canceled, reason: reason, storeOptions: storeOptions)
    }
}

/// Operator changes to one instance. Each takes the instance's lock as a short-lived lock owner of
/// its own (host id `wf-cli-<pid>`), saves with the version it loaded, and deletes that owner,
/// which releases the lock whatever happened.
enum InstanceControl {
    /// Long enough for one load and one save.
    static let lockDuration: Duration = .seconds(30)

    static var hostID: String { "wf-cli-\(ProcessInfo.processInfo.processIdentifier)" }

    static func setSuspended(_ suspended: Bool, id text: String, storeOptions: StoreOptions) async throws {
        let message = try await withStore(storeOptions) { store in
            let id = try parseInstanceID(text)
            let current = try await store.readInstance(id)
            if let done = try alreadyDone(current, suspended: suspended) { return done }
            let loaded: LoadedInstance
            let result: SaveResult
            do {
                (loaded, result) = try await suspendChange(id, suspended: suspended, in: store)
            } catch let unchanged as Unchanged {
                return unchanged.message
            }
            let verb = suspended ? "Suspended" : "Unsuspended"
            return "\(verb) instance \(id) (\(loaded.record.status.rawValue), now version \(result.version))."
        }
        print(message)
    }

    private static func suspendChange(
        _ id: UUID,
        suspended: Bool,
        in store: any InstanceStore
    ) async throws -> (LoadedInstance, SaveResult) {
        try await change(id, in: store) { loaded in
            if let done = try alreadyDone(loaded.record, suspended: suspended) { throw Unchanged(message: done) }
            let record = loaded.record
            let snapshot = InstanceSnapshot(
                state: record.state,
                status: record.status,
                isSuspended: suspended,
                nextTimerAt: record.summary.nextTimerAt,
                keys: record.keys,
                bookmarks: record.bookmarks,
                promotedProperties: record.promotedProperties,
                fault: record.summary.fault
            )
            return (snapshot, .unlock)
        }
    }

    /// The message when there is nothing to do; throws when the instance cannot be (un)suspended.
    private static func alreadyDone(_ record: InstanceRecord, suspended: Bool) throws -> String? {
        if suspended && record.status.isFinished {
            throw CLIError(
                "instance \(record.id) has already finished (\(record.status.rawValue)); only running or idle "
                    + "instances can be suspended."
            )
        }
        guard record.summary.isSuspended == suspended else { return nil }
        return "Instance \(record.id) is already \(suspended ? "suspended" : "not suspended"); nothing changed."
    }

    static func end(
        id text: String,
        as status: SteadfastCore.InstanceStatus,
        reason: String,
        storeOptions: StoreOptions
    ) async throws {
        let verb = status == .terminated ? "terminate" : "cancel"
        let message = try await withStore(storeOptions) { store in
            let id = try parseInstanceID(text)
            try requireUnfinished(try await store.readInstance(id), verb: verb)
            let storeStatus: SteadfastStore.InstanceStatus = status == .terminated ? .terminated : .canceled
            let (loaded, result) = try await change(id, in: store) { loaded in
                let record = loaded.record
                try requireUnfinished(record, verb: verb)
                let state: InstanceState
                do {
                    state = try InstanceState.decode(record.state)
                } catch {
                    throw CLIError(
                        "instance \(id)'s state cannot be decoded (\(oneLineMessage(error))), so it cannot be ended "
                            + "cleanly; nothing changed."
                    )
                }
                guard !state.status.isFinal else {
                    throw CLIError(
                        "instance \(id)'s state says it has already finished (\(state.status.rawValue)) though the "
                            + "store lists it as \(record.status.rawValue); nothing changed."
                    )
                }
                let ended = state.ended(as: status, reason: reason)
                let snapshot = InstanceSnapshot(
                    state: ended.encoded(),
                    status: storeStatus,
                    isSuspended: false,
                    nextTimerAt: nil,
                    keys: record.keys,
                    bookmarks: [],
                    promotedProperties: record.promotedProperties,
                    fault: record.summary.fault
                )
                return (snapshot, .complete)
            }
            let past = status == .terminated ? "Terminated" : "Canceled"
            var message = "\(past) instance \(id) (was \(loaded.record.status.rawValue))"
            if !loaded.pendingMessages.isEmpty {
                message += "; \(loaded.pendingMessages.count) pending message(s) were not delivered"
            }
            if result.deleted {
                message += "; the store deleted it (completion action deleteAll)."
            } else {
                message += "; kept at version \(result.version) until `wf purge`."
            }
            return message
        }
        print(message)
    }

    private static func requireUnfinished(_ record: InstanceRecord, verb: String) throws {
        guard !record.status.isFinished else {
            throw CLIError(
                "instance \(record.id) has already finished (\(record.status.rawValue)); only running or idle "
                    + "instances can be \(verb == "cancel" ? "canceled" : "terminated")."
            )
        }
    }

    /// Thrown from a change's body when the loaded instance needs no change after all.
    private struct Unchanged: Error {
        var message: String
    }

    /// Loads and locks the instance as a new lock owner, saves what `makeSave` returns with the
    /// loaded version, and deletes the owner (releasing the lock) whatever happens.
    static func change(
        _ id: UUID,
        in store: any InstanceStore,
        _ makeSave: (LoadedInstance) throws -> (InstanceSnapshot, SaveLockAction)
    ) async throws -> (LoadedInstance, SaveResult) {
        let owner = try await store.createLockOwner(hostID: hostID, lockDuration: lockDuration)
        do {
            let loaded: LoadedInstance
            do {
                loaded = try await store.loadInstance(id, owner: owner.id)
            } catch let error as InstanceStoreError where error.code == .instanceLocked {
                throw lockedError(error, id: id)
            }
            let (snapshot, action) = try makeSave(loaded)
            let result = try await store.save(
                SaveRequest(
                    instanceID: id,
                    owner: owner.id,
                    expectedVersion: loaded.version,
                    snapshot: snapshot,
                    lockAction: action
                )
            )
            try await store.deleteLockOwner(owner.id)
            return (loaded, result)
        } catch {
            try? await store.deleteLockOwner(owner.id)
            throw error
        }
    }

    private static func lockedError(_ error: InstanceStoreError, id: UUID) -> CLIError {
        guard let host = error.lockHostID, let until = error.lockedUntil else { return CLIError(error.message) }
        let owner = error.lockOwnerID.map { " (owner \($0.uuidString))" } ?? ""
        return CLIError(
            "instance \(id) is locked by host '\(host)'\(owner) until \(iso8601(until)): it is loaded there; "
                + "nothing changed. Retry when that host has unloaded it, or stop that host and retry after its "
                + "lock expires."
        )
    }
}
