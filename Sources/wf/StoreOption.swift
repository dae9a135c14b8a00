import ArgumentParser
import Foundation
import SteadfastSQLite
import SteadfastStore

/// `--store URL` and `--completion-action`, shared by every command that opens the instance store.
struct StoreOptions: ParsableArguments {
    /// The store URL used when `--store` is not given: `$STEADFAST_STORE`, else `sqlite:steadfast.db`
    /// (a file in the working folder).
    static var defaultURL: String {
        let fromEnvironment = ProcessInfo.processInfo.environment["STEADFAST_STORE"] ?? ""
        return fromEnvironment.trimmingCharacters(in: .whitespaces).isEmpty ? "sqlite:steadfast.db" : fromEnvironment
    }

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The instance store: sqlite:PATH (relative to the working folder, or absolute) or postgres://….",
            discussion: "Defaults to $STEADFAST_STORE when set, else sqlite:steadfast.db.",
            valueName: "URL"
        )
    )
    var store: String = StoreOptions.defaultURL

    @Option(
        name: .long,
        help: ArgumentHelp(
            "What saving a finished instance does: deleteAll (delete its rows, the classic default) or "
                + "deleteNothing (keep it for query until `wf purge`).",
            valueName: "ACTION"
        )
    )
    var completionAction: CompletionActionOption = .deleteAll

    @Option(help: "How new states are stored: gzip (zlib, above the threshold) or none. Old rows keep theirs.")
    var encoding: EncodingOption = .gzip

    @Option(help: "States smaller than this many bytes are stored plain whatever --encoding says.")
    var compressionThreshold: Int = 1024

    @Option(
        help: ArgumentHelp(
            "SQLite durability: full (every commit reaches the disk before the save returns) or normal "
                + "(faster; a power cut may lose the last commits, a process crash loses nothing).",
            valueName: "full|normal"))
    var synchronous: SynchronousOption = .full

    var sqliteOptions: SQLiteStoreOptions {
        SQLiteStoreOptions(synchronous: synchronous == .full ? .full : .normal)
    }

    /// Parses the URL and opens the store.
    ///
    /// With `mustExist`, a SQLite file that is not there is an error rather than a new, empty
    /// store: inspecting or changing instances in the wrong folder should say so, not create a file.
    func open(mustExist: Bool = false) async throws -> any InstanceStore {
        let location: StoreLocation
        do {
            location = try StoreLocation(parsing: store)
        } catch let error as InstanceStoreError {
            throw CLIError(error.message)
        }
        let options = InstanceStoreOptions(
            encoding: StateEncodingOptions(
                encoding: encoding.encoding, compressionThreshold: max(0, compressionThreshold)),
            completionAction: completionAction.action)
        switch location {
        case .postgres:
            throw CLIError(
                "'\(store)' is a PostgreSQL URL, but the PostgreSQL store is not in this build yet; "
                    + "use a SQLite store (--store sqlite:PATH)."
            )
        case .sqliteFile(let path):
            if mustExist && !FileManager.default.fileExists(atPath: path) {
                throw CLIError(
                    "there is no store at '\(path)' (--store \(store)); pass --store sqlite:PATH naming an "
                        + "existing store, or set STEADFAST_STORE."
                )
            }
            return try await SQLiteInstanceStore(location: location, options: options, sqliteOptions: sqliteOptions)
        case .sqliteMemory:
            return try await SQLiteInstanceStore(location: location, options: options, sqliteOptions: sqliteOptions)
        }
    }
}

/// The store's completion action, as a command-line value.
enum CompletionActionOption: String, CaseIterable, ExpressibleByArgument {
    case deleteAll
    case deleteNothing

    var action: InstanceCompletionAction {
        switch self {
        case .deleteAll: .deleteAll
        case .deleteNothing: .deleteNothing
        }
    }
}

/// The state encoding, as a command-line value.
enum EncodingOption: String, CaseIterable, ExpressibleByArgument {
    case gzip
    case none

    var encoding: StateEncoding {
        switch self {
        case .gzip: .gzip
        case .none: .none
        }
    }
}

/// SQLite's synchronous setting, as a command-line value.
enum SynchronousOption: String, CaseIterable, ExpressibleByArgument {
    case full
    case normal
}
