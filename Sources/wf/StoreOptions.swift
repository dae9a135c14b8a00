import ArgumentParser
import Foundation
import SteadfastApplication
import SteadfastCore
import SteadfastStore

/// `--store URL`: every command that reads or changes instances.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The instance store: sqlite:PATH (relative to the working folder, or absolute), or PostgreSQL as "
                + "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=…] or postgres:KEY=VALUE … (any libpq "
                + "connection string). "
                + "Default: $STEADFAST_STORE, else sqlite:steadfast.db.",
            valueName: "URL"))
    var store: String?

    var configuration: StoreConfiguration { StoreConfiguration(url: store ?? StoreConfiguration.defaultURL) }
}

/// How new states are written and how durable a commit is: only for commands that write states.
struct WriteOptions: ParsableArguments {
    @Option(help: "How new states are stored: gzip (zlib, above the threshold) or none. Old rows keep theirs.")
    var encoding: EncodingOption = .gzip

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("States smaller than this are stored plain whatever --encoding says.", valueName: "BYTES"))
    var compressionThreshold: Int = 1024

    @Option(
        help: ArgumentHelp(
            "SQLite durability: full (every commit reaches the disk before the save returns) or normal "
                + "(faster; a power cut may lose the last commits, a process crash loses nothing).",
            valueName: "full|normal"))
    var synchronous: SynchronousOption = .full

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Quarantine an instance claimed this many times without a save (each time its host crashed or "
                + "stopped while running it): the next claim faults it, keeping its state, instead of running it "
                + "again. 0 never quarantines.",
            valueName: "N"))
    var quarantineAfter: Int = InstanceStoreOptions.defaultQuarantineAfter

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "The largest instance state (before compression) a save may write; an instance whose state grows "
                + "past it faults with the reason. Default 16777216 (16 MiB).",
            valueName: "BYTES"))
    var maxStateSize: Int = InstanceStoreOptions.defaultMaxStateSize

    func validate() throws {
        guard (4096...WorkflowLimits.maxStateBytes).contains(maxStateSize) else {
            throw ValidationError(
                "--max-state-size must be from 4096 to \(WorkflowLimits.maxStateBytes) bytes, not \(maxStateSize).")
        }
        guard compressionThreshold >= 0 else {
            throw ValidationError("--compression-threshold must be 0 or more bytes, not \(compressionThreshold).")
        }
        guard (0...1000).contains(quarantineAfter) else {
            throw ValidationError(
                "--quarantine-after must be a number of claims from 0 to 1000, not \(quarantineAfter).")
        }
    }

    func configure(_ configuration: StoreConfiguration) -> StoreConfiguration {
        var configuration = configuration
        configuration.encoding = encoding == .gzip ? .gzip : .none
        configuration.compressionThreshold = compressionThreshold
        configuration.durability = synchronous == .full ? .full : .normal
        configuration.quarantineAfter = quarantineAfter
        configuration.maxStateSize = maxStateSize
        return configuration
    }
}

/// Opens the store, runs `body` with the operations over it, and closes it whatever happens.
/// Errors are reported as every command reports them.
func withService<T>(
    _ configuration: StoreConfiguration, json: Bool, mustExist: Bool = true,
    _ body: (WorkflowService) async throws -> T
) async throws -> T {
    try await reportingErrors(json: json) {
        let store = try await configuration.open(mustExist: mustExist)
        do {
            let result = try await body(WorkflowService(store: store))
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }
}

enum EncodingOption: String, CaseIterable, ExpressibleByArgument {
    case gzip, none
}

enum SynchronousOption: String, CaseIterable, ExpressibleByArgument {
    case full, normal
}

extension InstanceCompletionAction: ExpressibleByArgument {}

/// What every command about one instance takes: the store, `--json`, and the instance.
struct InstanceOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: ArgumentHelp("The instance id, or a unique prefix of it.", valueName: "ID")) var id: String

    /// Opens the store, resolves the id, and runs `body` with both.
    func withInstance<T>(_ body: (WorkflowService, UUID) async throws -> T) async throws -> T {
        try await withService(storeOptions.configuration, json: output.json) { service in
            try await body(service, try await service.resolveID(id))
        }
    }
}
