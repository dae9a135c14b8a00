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
    @Option(
        help: ArgumentHelp(
            "Show the instance as it was saved at this version (see `wf history` for the versions).",
            valueName: "N"))
    var revision: Int64?

    func run() async throws {
        let view = try await instance.withInstance { service, id in
            if let revision { try await service.show(id, revision: revision) } else { try await service.show(id) }
        }
        if instance.output.json { try printJSON(view) } else { print(view.detailText) }
    }
}

/// `wf inbox ID`: what was sent to an instance, and what became of it.
struct Inbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List what was sent to an instance (messages and control commands), oldest first.",
        discussion: "Applied entries, rejected ones with the reason, and what still waits in its inbox.")

    @OptionGroup var instance: InstanceOptions

    func run() async throws {
        let entries = try await instance.withInstance { service, id in try await service.inbox(id) }
        if instance.output.json {
            try printJSON(entries)
        } else if entries.isEmpty {
            print("Nothing was sent to this instance.")
        } else {
            let rows = entries.map { entry -> [String] in
                let state = entry.state.rawValue + (entry.rejection.map { ": \($0)" } ?? "")
                return [String(entry.id), entry.enqueuedAt, entry.kind, entry.operation ?? entry.reason ?? "-", state]
            }
            print(renderTable(["ENTRY", "SENT", "KIND", "OPERATION/REASON", "STATE"], rows))
        }
    }
}

/// `wf history ID`: the instance's timeline, as its hosts recorded it with their saves.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print what happened to an instance, oldest first (its tracking records).",
        discussion: """
            Created (with its input), activities started and completed, bookmarks opened and resumed, timers set and \
            fired, saves, loads and unloads (by which host), control commands, and how it ended — each written in the \
            same transaction as the save that made it true. What is recorded follows the hosts' --tracking profile. \
            The history outlives an instance the completion action deleted (give its whole id then). With --follow, \
            new records are printed as they are saved until the instance ends (--json: one JSON object per line).
            """)

    @OptionGroup var instance: InstanceOptions
    @Flag(help: "Keep printing new records until the instance completes, faults, or is terminated or canceled.")
    var follow = false

    func run() async throws {
        let json = instance.output.json
        try await instance.withInstance { service, id in
            var records = try await service.history(id)
            guard follow else {
                if json {
                    try printJSON(records)
                } else if records.isEmpty {
                    print("No history is recorded for this instance (its hosts run with --tracking off?).")
                } else {
                    for record in records { print(record.text) }
                }
                return
            }
            var position: HistoryPosition?
            while true {
                for record in records {
                    print(json ? try jsonLine(record) : record.text)
                    position = record.position
                }
                if records.last?.isFinal == true { return }
                try await Task.sleep(for: .milliseconds(200))
                records = try await service.history(id, after: position)
            }
        }
    }

    private func jsonLine(_ record: HistoryEntryView) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }
}

/// `wf rewind ID --to N`: puts an instance back to one of its revisions.
struct Rewind: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put an instance back to one of its revisions (see `wf history` for the versions) and let it run on.",
        discussion: """
            The instance takes the state its save of version N wrote, as a new version, and is unlocked: a host of \
            its definition runs it on from there. What it did after that revision is discarded; messages still \
            waiting in its inbox stay. A live host must not hold it (`wf abandon` makes it let go); an instance the \
            completion action deleted comes back from its history. The revision's exact definition must be among \
            --definitions. With --to-version, it goes on under that version of its definition (also among \
            --definitions) when the two are compatible at that point: every running activity and open bookmark \
            exists at the same place in the new version; otherwise nothing changes and the first difference is \
            named. A pending timer keeps the due time it was set with. A suspended instance stays suspended. The \
            rewind is recorded in its history.
            """)

    @OptionGroup var instance: InstanceOptions
    @Option(help: ArgumentHelp("The revision (version) to go back to.", valueName: "N")) var to: Int64
    @OptionGroup var target: TargetVersionOption
    @OptionGroup var definitions: DefinitionOptions

    func run() async throws {
        let catalog = try await reportingErrors(json: instance.output.json) { try definitions.load().catalog }
        let view = try await instance.withInstance { service, id in
            try await service.rewind(id, to: to, onto: target.version, catalog: catalog)
        }
        if instance.output.json { try printJSON(view) } else { print(view.detailText) }
    }
}

struct Recover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a faulted instance back: rewind it to its last revision from before the fault.",
        discussion: """
            Like `wf rewind ID --to N` with N the latest revision that had not ended. With --to-version, it goes on \
            under that version of its definition (one that fixes the fault), when the two are compatible at that \
            point; otherwise nothing changes and the first difference is named. A host of the definition then runs \
            it on. Revisions are recorded by hosts that run with --tracking instance or full.
            """)

    @OptionGroup var instance: InstanceOptions
    @OptionGroup var target: TargetVersionOption
    @OptionGroup var definitions: DefinitionOptions

    func run() async throws {
        let catalog = try await reportingErrors(json: instance.output.json) { try definitions.load().catalog }
        let (view, rewound) = try await instance.withInstance { service, id in
            let view = try await service.recover(id, onto: target.version, catalog: catalog)
            return (view, try await service.history(id).last { $0.kind == HistoryKind.rewound.rawValue })
        }
        if instance.output.json {
            try printJSON(view)
        } else {
            if let rewound, let to = rewound.detail["to"] {
                print(
                    "recovered: back to revision \(to.text), as version \(rewound.version), under '\(view.definition.name)' "
                        + "version \(view.definition.version)")
            }
            print(view.detailText)
        }
    }
}

struct Fork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a new instance from one of an instance's revisions, leaving that instance as it is.",
        discussion: """
            The new instance has its own id, the revision's variables (--set changes some, such as its correlation \
            keys, which no two instances share) and goes on from the revision's point, on a host of its definition. \
            Its history starts with `forked`, naming where it came from. The revision's exact definition must be \
            among --definitions; --to-version runs the fork under another version of it, when compatible at that point.
            """)

    @OptionGroup var instance: InstanceOptions
    @Option(help: ArgumentHelp("The revision (version) to start from.", valueName: "N")) var from: Int64
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Set a variable of the fork (repeatable); the value is JSON, else a string.", valueName: "NAME=VALUE"))
    var settings: [String] = []
    @OptionGroup var target: TargetVersionOption
    @OptionGroup var definitions: DefinitionOptions

    /// The variables `--set` gives (the last of one name wins).
    private var changes: [String: JSONValue] {
        get throws {
            let pairs = try settings.map { try Values.keyValue($0, option: "--set") }
            return Dictionary(pairs, uniquingKeysWith: { _, last in last })
        }
    }

    func validate() throws { _ = try changes }

    func run() async throws {
        let changes = try changes
        let catalog = try await reportingErrors(json: instance.output.json) { try definitions.load().catalog }
        let view = try await instance.withInstance { service, id in
            try await service.fork(id, from: from, onto: target.version, setting: changes, catalog: catalog)
        }
        if instance.output.json { try printJSON(view) } else { print(view.detailText) }
    }
}

/// `--to-version`: another version of the instance's definition to go on under (`--version` is
/// `wf --version`).
struct TargetVersionOption: ParsableArguments {
    @Option(
        name: .customLong("to-version"),
        help: ArgumentHelp(
            "Go on under this version of the instance's definition (among --definitions), if compatible.",
            valueName: "VERSION"))
    var version: String?
}
