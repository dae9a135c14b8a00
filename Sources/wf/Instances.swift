import ArgumentParser
import Foundation
import SteadfastStore

/// `wf instances`: lists the store's instances, newest-updated first.
struct Instances: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List workflow instances in the store, newest-updated first.",
        discussion: """
            Each instance's state is decoded to show what it waits for; an instance whose state \
            cannot be decoded is still listed, with its store metadata and a stateError.
            """
    )

    @OptionGroup var storeOptions: StoreOptions

    @Option(
        name: .long,
        help: ArgumentHelp("Only instances with this status (repeat for several).", valueName: "STATUS")
    )
    var status: [StatusOption] = []

    @Option(name: .long, help: ArgumentHelp("Only instances of this definition.", valueName: "NAME"))
    var definition: String?

    @Option(name: .long, help: ArgumentHelp("At most this many instances.", valueName: "N"))
    var limit: Int = 100

    @Flag(name: .long, help: "Print a JSON array of instances (and nothing else) on stdout.")
    var json = false

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1, not \(limit).") }
    }

    func run() async throws {
        let views = try await withStore(storeOptions) { store in
            let query = InstanceQuery(
                statuses: status.isEmpty ? nil : Set(status.map(\.status)),
                definitionName: definition,
                limit: limit
            )
            var views: [InstanceView] = []
            for summary in try await store.listInstances(query) {
                do {
                    views.append(InstanceView(record: try await store.readInstance(summary.id)))
                } catch let error as InstanceStoreError where error.code == .instanceNotFound {
                    continue  // deleted since it was listed
                } catch let error as InstanceStoreError where error.code == .corruptState {
                    views.append(InstanceView(summary: summary, stateError: error.message))
                }
            }
            return views
        }
        if json {
            try printJSON(views)
        } else if views.isEmpty {
            print("No instances\(status.isEmpty && definition == nil ? "" : " match").")
        } else {
            print(renderTable(InstanceView.tableHeader, views.map(\.tableRow)))
            if views.count == limit { print("(the \(limit) most recently updated; raise --limit to see more)") }
        }
    }
}

/// An instance status, as a command-line value.
enum StatusOption: String, CaseIterable, ExpressibleByArgument {
    case running, idle, completed, faulted, canceled, terminated

    var status: InstanceStatus {
        switch self {
        case .running: .running
        case .idle: .idle
        case .completed: .completed
        case .faulted: .faulted
        case .canceled: .canceled
        case .terminated: .terminated
        }
    }
}
