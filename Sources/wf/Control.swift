import ArgumentParser
import Foundation
import SteadfastApplication
import SteadfastCore
import SteadfastStore

/// How a message or command is sent: how long to wait for it, and an optional client id.
struct DeliveryOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Return when it is accepted (stored), applied, the instance is idle again, or it has completed.",
            valueName: "accepted|applied|idle|completed"))
    var wait: WaitCondition = .applied

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Seconds to wait before giving up (what was sent stays queued).", valueName: "SECONDS"))
    var timeout: Double = 30

    @Option(help: ArgumentHelp("Your id for it: sending the same id again stores it once.", valueName: "ID"))
    var clientID: String?

    func validate() throws { _ = try Values.seconds(timeout, option: "--timeout") }

    var timeoutDuration: Duration { (try? Values.seconds(timeout, option: "--timeout")) ?? .seconds(30) }
}

/// What every control command takes: the instance, and how it is sent.
struct ControlOptions: ParsableArguments {
    @OptionGroup var instance: InstanceOptions
    @OptionGroup var delivery: DeliveryOptions

    /// Sends `command` to the instance and prints what became of it.
    func send(_ command: InboxEntry.Command, verb: String) async throws {
        let outcome = try await instance.withInstance { service, id in
            try await service.control(
                id, command, clientID: delivery.clientID, wait: delivery.wait, timeout: delivery.timeoutDuration)
        }
        if instance.output.json {
            try printJSON(outcome)
            return
        }
        let state = outcome.entry.state == .applied ? "applied" : "accepted (inbox entry \(outcome.entry.id))"
        var line = "\(verb) instance \(outcome.entry.instanceID): \(state)"
        if let instance = outcome.instance, !instance.deleted {
            line += "; it is \(instance.statusText)"
        } else if outcome.entry.state == .applied {
            line += "; the instance finished and was deleted (completion action deleteAll)"
        }
        print(line + ".")
    }
}

/// `wf suspend ID`: the instance runs no timers and takes no messages until unsuspended.
struct Suspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Suspend an instance: it runs no timers and takes no messages until unsuspended.",
        discussion: """
            The command is stored in the instance's inbox whoever holds it, and applied in order by the host \
            that runs it (at once, here, when no host holds it). Messages sent meanwhile wait in the inbox.
            """)
    @OptionGroup var options: ControlOptions
    func run() async throws { try await options.send(.suspend, verb: "Suspended") }
}

/// `wf unsuspend ID`: the instance runs again.
struct Unsuspend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unsuspend an instance: overdue timers fire at once and waiting messages are applied in order.")
    @OptionGroup var options: ControlOptions
    func run() async throws { try await options.send(.unsuspend, verb: "Unsuspended") }
}

/// `wf terminate ID [--reason TEXT]`: ends an instance as `terminated`.
struct Terminate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Terminate an instance: it ends as terminated; its bookmarks and timers are removed.",
        discussion: "A terminated instance stays in the store with its reason until `wf purge` or `wf delete`.")
    @OptionGroup var options: ControlOptions
    @Option(help: ArgumentHelp("Why, recorded as the termination reason.", valueName: "TEXT"))
    var reason: String = "terminated by an operator (wf terminate)"
    func run() async throws { try await options.send(.terminate(reason: reason), verb: "Terminated") }
}

/// `wf cancel ID [--reason TEXT]`: ends an instance as `canceled`.
struct Cancel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel an instance: it ends as canceled; its bookmarks and timers are removed.",
        discussion: "The store's completion action then applies (see `wf completion-action`).")
    @OptionGroup var options: ControlOptions
    @Option(help: ArgumentHelp("Why, recorded with the instance.", valueName: "TEXT"))
    var reason: String = "canceled by an operator (wf cancel)"
    func run() async throws { try await options.send(.cancel(reason: reason), verb: "Canceled") }
}

/// `wf abandon ID`: the host holding the instance discards what it has not saved and lets go.
struct Abandon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make the host holding an instance discard what it has not saved, and release the instance.",
        discussion: """
            The instance goes on from its last save on whichever host loads it next: for an instance stuck on a \
            host (a no-persist zone that never ends, an async activity that hangs). An instance no host holds \
            has nothing unsaved: the command is recorded and changes nothing else.
            """)
    @OptionGroup var options: ControlOptions
    func run() async throws { try await options.send(.abandon, verb: "Abandoned") }
}

/// `wf delete ID`: removes one instance that no live host holds, whatever its state.
struct Delete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete one instance and everything attached to it, whatever its state bytes.",
        discussion: "Refused while a live host holds the instance.")
    @OptionGroup var instance: InstanceOptions

    func run() async throws {
        let deleted = try await instance.withInstance { service, id in
            try await service.delete(id)
            return id
        }
        if instance.output.json {
            try printJSON(["deleted": deleted.uuidString])
        } else {
            print("Deleted instance \(deleted).")
        }
    }
}

/// `wf purge`: deletes finished instances.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete finished instances (completed, faulted, canceled, terminated) and everything attached.",
        discussion: "Instances a live host holds are left alone.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Flag(help: "Only completed instances (keep faulted, canceled and terminated ones).") var completed = false
    @Option(
        help: ArgumentHelp(
            "Only instances last updated longer ago than this: 7d, 12h, 30m, P7D.", valueName: "DURATION"))
    var olderThan: String?
    @Option(help: ArgumentHelp("Only instances of this definition.", valueName: "NAME")) var definition: String?
    @Flag(help: "List what would be deleted; delete nothing.") var dryRun = false

    func validate() throws { _ = try olderThan.map { try Values.age($0, option: "--older-than") } }

    func run() async throws {
        var filter = PurgeFilter(
            statuses: completed ? [.completed] : InstanceStatus.finished, definitionName: definition)
        if let olderThan {
            let age = try Values.age(olderThan, option: "--older-than")
            filter.updatedBefore = Date().addingTimeInterval(-Double(age.components.seconds))
        }
        let result = try await withService(storeOptions.configuration, json: output.json) { service in
            try await service.purge(filter, dryRun: dryRun)
        }
        if output.json {
            try printJSON(result)
        } else if dryRun {
            print("Would purge \(result.count) instance\(result.count == 1 ? "" : "s").")
            for id in result.ids ?? [] { print(id) }
        } else {
            print(
                "Purged \(result.count) \(completed ? "completed" : "finished") instance\(result.count == 1 ? "" : "s")."
            )
        }
    }
}

/// `wf completion-action [ACTION]`: shows or sets what finishing an instance does in this store.
struct CompletionAction: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "completion-action",
        abstract: "Show, or set, the store's completion action: deleteAll (the default) or deleteNothing.",
        discussion: """
            It is a setting of the store, used by every process that finishes an instance. deleteAll deletes \
            completed and canceled instances; faulted and terminated ones are always kept, with their reason, \
            until purged.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: ArgumentHelp("The new action: deleteAll or deleteNothing.", valueName: "ACTION"))
    var action: InstanceCompletionAction?

    func run() async throws {
        let current = try await withService(storeOptions.configuration, json: output.json, mustExist: action == nil) {
            service in
            if let action { try await service.setCompletionAction(action) }
            return try await service.completionAction()
        }
        if output.json { try printJSON(["completionAction": current.rawValue]) } else { print(current.rawValue) }
    }
}
