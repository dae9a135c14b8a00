import ArgumentParser
import Foundation
import SteadfastStore

/// `wf show ID`: one instance in full.
struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one instance: status, lock, keys, bookmarks, timers and variables."
    )

    @OptionGroup var storeOptions: StoreOptions

    @Argument(help: ArgumentHelp("The instance id.", valueName: "ID"))
    var id: String

    @Flag(name: .long, help: "Print the instance as JSON (and nothing else) on stdout.")
    var json = false

    func run() async throws {
        let view = try await withStore(storeOptions) { store in
            let id = try parseInstanceID(self.id)
            do {
                return InstanceView(record: try await store.readInstance(id))
            } catch let error as InstanceStoreError where error.code == .corruptState {
                // The row's state bytes cannot even be decompressed: show what the listing knows.
                let summary = try await store.listInstances(.all).first { $0.id == id }
                guard let summary else { throw error }
                return InstanceView(summary: summary, stateError: error.message)
            }
        }
        if json {
            try printJSON(view)
        } else {
            print(view.detailText)
        }
    }
}
