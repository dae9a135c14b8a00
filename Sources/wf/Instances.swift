import ArgumentParser
import Foundation
import SteadfastApplication
import SteadfastCore
import SteadfastStore

/// `wf instances`: lists the store's instances, newest-updated first, a page at a time.
struct Instances: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List workflow instances, newest-updated first.",
        discussion: """
            Each instance's state is decoded to show what it waits for; one whose state cannot be \
            decoded is still listed, with its store metadata and a stateError.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(
        help: ArgumentHelp(
            "Only instances with this status: running, idle, completed, faulted, canceled, terminated, "
                + "suspended or blocked (repeat for several).",
            valueName: "STATUS"))
    var status: [String] = []

    @Option(
        help: ArgumentHelp("Only instances of this definition: NAME, or NAME@VERSION as listed.", valueName: "NAME"))
    var definition: String?

    @Option(
        help: ArgumentHelp("Only the instance with this correlation key, e.g. orderId=42.", valueName: "NAME=VALUE"))
    var key: String?

    @Option(
        name: .customLong("where"),
        help: ArgumentHelp("Only instances whose promoted property has this value.", valueName: "NAME=VALUE"))
    var property: String?

    @Option(help: ArgumentHelp("Only instances updated at or after this time (ISO-8601).", valueName: "TIME"))
    var updatedAfter: String?

    @Option(help: ArgumentHelp("Only instances updated before this time (ISO-8601).", valueName: "TIME"))
    var updatedBefore: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("At most this many instances a page.", valueName: "N"))
    var limit: Int = 100

    @Option(help: ArgumentHelp("Go on from a previous page (its continuation token).", valueName: "TOKEN"))
    var continuation: String?

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1, not \(limit).") }
        _ = try query()
    }

    func query() throws -> InstanceQuery {
        var query = InstanceQuery(limit: limit)
        if let definition {
            let parts = definition.split(separator: "@", maxSplits: 1).map(String.init)
            query.definitionName = parts.first
            query.definitionVersion = parts.count == 2 ? parts[1] : nil
        }
        var statuses: Set<InstanceStatus> = []
        for value in status {
            switch value {
            case "suspended": query.suspended = true
            case "blocked": query.blocked = true
            default:
                guard let parsed = InstanceStatus(rawValue: value) else {
                    throw ValidationError(
                        "--status '\(value)' is not a status: use running, idle, completed, faulted, canceled, "
                            + "terminated, suspended or blocked.")
                }
                statuses.insert(parsed)
            }
        }
        if !statuses.isEmpty { query.statuses = statuses }
        if let key {
            let (name, value) = try Values.keyValue(key, option: "--key")
            query.key = InstanceKey(name: name, value: value)
        }
        if let property {
            let (name, value) = try Values.keyValue(property, option: "--where")
            query.promotedProperty = PromotedPropertyFilter(name: name, value: value.text)
        }
        query.updatedAfter = try updatedAfter.map { try Values.timestamp($0, option: "--updated-after") }
        query.updatedBefore = try updatedBefore.map { try Values.timestamp($0, option: "--updated-before") }
        return query
    }

    func run() async throws {
        let page = try await withService(storeOptions.configuration, json: output.json) { service in
            try await service.list(try query(), continuation: continuation)
        }
        if output.json {
            try printJSON(page)
        } else if page.instances.isEmpty {
            print(
                "No instances\(status.isEmpty && definition == nil && key == nil && property == nil ? "" : " match").")
        } else {
            print(renderTable(InstanceView.tableHeader, page.instances.map(\.tableRow)))
            if let next = page.continuation { print("(more: --continuation \(next))") }
        }
    }
}

/// `wf show ID`: one instance in full.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one instance: status, lock, keys, bookmarks, timers and variables.")

    @OptionGroup var instance: InstanceOptions

    func run() async throws {
        let view = try await instance.withInstance { service, id in try await service.show(id) }
        if instance.output.json { try printJSON(view) } else { print(view.detailText) }
    }
}

/// `wf history ID`: what was sent to an instance, and what became of it.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List what was sent to an instance (messages and control commands), oldest first.",
        discussion: "Applied entries, rejected ones with the reason, and what still waits in its inbox.")

    @OptionGroup var instance: InstanceOptions

    func run() async throws {
        let entries = try await instance.withInstance { service, id in try await service.history(id) }
        if instance.output.json {
            try printJSON(entries)
        } else if entries.isEmpty {
            print("Nothing was sent to this instance.")
        } else {
            let rows = entries.map { entry in
                [
                    String(entry.id), entry.enqueuedAt, entry.kind, entry.operation ?? entry.reason ?? "-",
                    entry.state.rawValue + (entry.rejection.map { ": \($0)" } ?? ""),
                ]
            }
            print(renderTable(["ENTRY", "SENT", "KIND", "OPERATION/REASON", "STATE"], rows))
        }
    }
}
