import ArgumentParser
import Foundation
import SteadfastStore

/// `wf purge [--completed]`: deletes finished instances.
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete finished instances (completed, faulted, canceled, terminated) and everything attached.",
        discussion: "Instances a live host holds locked are left alone."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Flag(name: .long, help: "Only completed instances (keep faulted, canceled and terminated ones).")
    var completed = false

    @Flag(name: .long, help: "Print {\"purged\": N} (and nothing else) on stdout.")
    var json = false

    func run() async throws {
        let statuses: Set<InstanceStatus> = completed ? [.completed] : InstanceStatus.finished
        let count = try await withStore(storeOptions) { store in
            try await store.purgeInstances(PurgeFilter(statuses: statuses))
        }
        if json {
            try printJSON(["purged": count])
        } else {
            let what = completed ? "completed" : "finished"
            print("Purged \(count) \(what) instance\(count == 1 ? "" : "s").")
        }
    }
}
