import ArgumentParser
import Foundation
import SteadfastCore
import SteadfastHost
import SteadfastStore

/// The host's idle, lock and detection settings, shared by `run`, `send` and `serve`.
struct HostingOptions: ParsableArguments {
    @Option(help: "The name this host registers under as a lock owner (default: wf-HOSTNAME-PID).")
    var hostID: String = "wf-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"

    @Option(help: "Save an idle instance after this many seconds, keeping it loaded (default: never).")
    var timeToPersist: Double?

    @Option(help: "Save, unlock and unload an idle instance after this many seconds; 0 = at once.")
    var timeToUnload: Double?

    @Option(help: "Seconds between renewals of this host's lock (default 30).")
    var lockRenewal: Double = 30

    @Option(help: "Seconds between polls for runnable instances; shortened for imminent timers (default 5).")
    var detectionPeriod: Double = 5

    @Option(help: "When an instance is locked by another host: noRetry, basicRetry or aggressiveRetry.")
    var lockedRetry: RetryOption = .noRetry

    @Option(help: "The most instances loaded at once.")
    var maxInstances: Int = 1000

    @Flag(help: "Print the host's progress (loads, saves, unloads) on stderr.")
    var verbose = false

    func hostOptions(defaultTimeToUnload: Double) -> HostOptions {
        var options = HostOptions(
            hostID: hostID, timeToPersist: timeToPersist.map { .milliseconds(Int64($0 * 1000)) },
            timeToUnload: .milliseconds(Int64((timeToUnload ?? defaultTimeToUnload) * 1000)),
            hostLockRenewalPeriod: .milliseconds(Int64(lockRenewal * 1000)),
            runnableInstancesDetectionPeriod: .milliseconds(Int64(detectionPeriod * 1000)),
            maxConcurrentInstances: maxInstances)
        options.hostLockGrace = min(.seconds(30), options.hostLockRenewalPeriod)
        switch lockedRetry {
        case .noRetry: options.instanceLockedRetry = .noRetry
        case .basicRetry: options.instanceLockedRetry = .basicRetry()
        case .aggressiveRetry: options.instanceLockedRetry = .aggressiveRetry()
        }
        return options
    }

    /// Writes the host's events: workflow output on `lines` (stdout unless JSON goes there),
    /// progress on stderr when verbose.
    func eventPrinter(linesToStderr: Bool) -> @Sendable (HostEvent) -> Void {
        let verbose = verbose
        return { event in
            switch event {
            case .line(let id, let text):
                if linesToStderr {
                    printError("[\(id.prefix(8))] \(text)")
                } else {
                    FileHandle.standardOutput.write(Data("[\(id.prefix(8))] \(text)\n".utf8))
                }
            case .faulted(let id, let reason): printError("wf: instance \(id) faulted: \(reason)")
            case .abandoned(let id, let reason): printError("wf: stopped working on instance \(id): \(reason)")
            case .unloaded(let id, let next):
                printError("[\(id.prefix(8))] saved and unloaded" + (next.map { "; next timer at \($0)" } ?? ""))
            case .loaded(let id): printError("[\(id.prefix(8))] loaded")
            case .persisted(let id, let version):
                if verbose { printError("[\(id.prefix(8))] saved (version \(version))") }
            case .finished(let id, let state): printError("[\(id.prefix(8))] \(state.status.rawValue)")
            }
        }
    }
}

enum RetryOption: String, CaseIterable, ExpressibleByArgument {
    case noRetry, basicRetry, aggressiveRetry
}

/// Collects events for one instance so a command can wait for it to be unloaded or to finish.
final class InstanceWatch: Sendable {
    private let (stream, continuation) = AsyncStream.makeStream(of: HostEvent.self)

    func record(_ event: HostEvent) { continuation.yield(event) }

    /// Waits until instance `id` has left memory: unloaded, finished, or abandoned.
    func waitForExit(of id: String, untilFinished: Bool) async -> SteadfastCore.InstanceState? {
        for await event in stream {
            switch event {
            case .finished(id, let state): return state
            case .unloaded(id, _) where !untilFinished: return nil
            case .abandoned(id, _), .faulted(id, _): return nil
            default: continue
            }
        }
        return nil
    }
}

/// `wf run FILE`: starts an instance and runs it until it completes or goes idle.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an instance of a definition and run it until it completes or goes idle.",
        discussion: """
            Prints the instance as JSON on stdout; the workflow's output and the host's progress go \
            to stderr. An idle instance is saved and unlocked (unloaded) at once, so any host — \
            `wf serve`, or `wf run --wait` — can bring it back when its timer is due or a message \
            arrives. With --wait, this command keeps hosting until the instance completes.
            """)

    @Argument(help: "The definition file (JSON).") var file: String
    @Option(help: "A JSON object setting variables, e.g. '{\"records\": 10}'.") var input: String?
    @Flag(help: "Keep hosting the instance until it completes (timers fire, messages are taken).") var wait = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        try await withStore(storeOptions, mustExist: false) { store in
            let definition = try WorkflowDefinition.load(file: file)
            var variables: [String: JSONValue] = [:]
            if let input {
                guard case .object(let fields) = try JSONValue.parse(input, what: "--input") else {
                    throw CLIError("--input must be a JSON object of variable names and values")
                }
                variables = fields
            }
            let watch = InstanceWatch()
            // stdout gets the instance as JSON; the workflow's output and progress go to stderr.
            let printer = hosting.eventPrinter(linesToStderr: true)
            let host = WorkflowHost(
                store: store, catalog: DefinitionCatalog([definition]),
                options: hosting.hostOptions(defaultTimeToUnload: 0)
            ) { event in
                printer(event)
                watch.record(event)
            }
            try await host.start(background: wait)
            let id = try await host.startInstance(definitionName: definition.name, input: variables)
            let final = await watch.waitForExit(of: id.uuidString, untilFinished: wait)
            await host.stop()
            try printJSON(try await finalView(id: id, store: store, final: final))
        }
    }

}

/// The instance as stored, or — when the completion action deleted its rows — as it ended.
func finalView(id: UUID, store: any InstanceStore, final: SteadfastCore.InstanceState?) async throws -> InstanceView {
    if let record = try? await store.readInstance(id) { return InstanceView(record: record) }
    guard let final else { throw CLIError("instance \(id) is gone from the store") }
    return InstanceView(record: InstanceRecord(finished: final, id: id), state: final)
}

extension InstanceRecord {
    /// A stand-in record for an instance whose rows the completion action deleted.
    init(finished state: SteadfastCore.InstanceState, id: UUID) {
        let now = Date()
        self.init(
            summary: InstanceSummary(
                id: id,
                definition: SteadfastStore.DefinitionIdentity(
                    name: state.definition.name, version: state.definition.version),
                status: SteadfastStore.InstanceStatus(rawValue: state.status.rawValue) ?? .faulted, isSuspended: false,
                version: 0, lock: nil, nextTimerAt: nil, fault: state.fault?.description, createdAt: now, updatedAt: now
            ),
            state: state.encoded(), stateEncoding: .none, keys: [], bookmarks: [], promotedProperties: [:])
    }
}

/// `wf send OPERATION --body JSON`: delivers a correlated message.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Deliver a message, routed by its correlation key; a receive with createsInstance may start an instance.")

    @Argument(help: "The operation a receive waits for.") var operation: String
    @Option(help: "The message body (a JSON object); its correlation key field routes it.") var body: String = "{}"
    @Option(help: "The folder of definitions that may take the message.") var definitions: String = "Samples"
    @Flag(help: "Print the instance as JSON.") var json = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        try await withStore(storeOptions, mustExist: false) { store in
            let message = try JSONValue.parse(body, what: "--body")
            try await deliver(store: store, definitions: definitions, hosting: hosting, json: json) { host in
                try await host.send(operation: operation, body: message)
            }
        }
    }
}

/// `wf resume-bookmark ID OPERATION --body JSON`: resumes an instance by id.
struct ResumeBookmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume an instance's open bookmark by instance id.")

    @Argument(help: "The instance id.") var id: String
    @Argument(help: "The operation of the open bookmark.") var operation: String
    @Option(help: "The message body (JSON).") var body: String = "{}"
    @Option(help: "The folder of definitions (the instance's must be there).") var definitions: String = "Samples"
    @Flag(help: "Print the instance as JSON.") var json = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        try await withStore(storeOptions) { store in
            let instanceID = try parseInstanceID(id)
            let message = try JSONValue.parse(body, what: "--body")
            try await deliver(store: store, definitions: definitions, hosting: hosting, json: json) { host in
                try await host.deliver(to: instanceID, operation: operation, body: message)
            }
        }
    }
}

/// Hosts the definitions in a folder just long enough to apply one message, then unloads.
private func deliver(
    store: any InstanceStore, definitions: String, hosting: HostingOptions, json: Bool,
    _ action: (WorkflowHost) async throws -> SteadfastCore.InstanceState
) async throws {
    let watch = InstanceWatch()
    let printer = hosting.eventPrinter(linesToStderr: json)
    let host = WorkflowHost(
        store: store, catalog: try DefinitionCatalog(directory: definitions),
        options: hosting.hostOptions(defaultTimeToUnload: 0)
    ) { event in
        printer(event)
        watch.record(event)
    }
    try await host.start(background: false)
    let state: SteadfastCore.InstanceState
    do {
        state = try await action(host)
    } catch {
        await host.stop()
        throw error
    }
    let final = await watch.waitForExit(of: state.instanceID, untilFinished: false)
    await host.stop()
    guard let id = UUID(uuidString: state.instanceID) else { return }
    let view = try await finalView(id: id, store: store, final: final ?? state)
    if json { try printJSON(view) } else { print(view.detailText) }
}

/// `wf serve --definitions DIR`: a long-running host.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Host every definition in a folder: fire timers, take waiting messages, until SIGINT/SIGTERM.",
        discussion: "On SIGINT or SIGTERM, loaded instances are saved and unlocked before the host exits.")

    @Option(help: "The folder of definitions (*.json).") var definitions: String = "Samples"
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        try await withStore(storeOptions, mustExist: false) { store in
            let catalog = try DefinitionCatalog(directory: definitions)
            let host = WorkflowHost(
                store: store, catalog: catalog, options: hosting.hostOptions(defaultTimeToUnload: 60),
                onEvent: hosting.eventPrinter(linesToStderr: false))
            try await host.start()
            printError(
                "wf serve: hosting \(catalog.definitions.map { "\($0.name) v\($0.version)" }.joined(separator: ", ")) as \(hosting.hostID); stop with Ctrl-C"
            )
            let signal = await ShutdownSignal.wait()
            printError("wf serve: \(signal): saving and unlocking loaded instances")
            await host.stop()
        }
    }
}

/// Waits for SIGINT or SIGTERM.
enum ShutdownSignal {
    static func wait() async -> String {
        let (signals, continuation) = AsyncStream.makeStream(of: String.self)
        var sources: [any DispatchSourceSignal] = []
        for (number, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(name) }
            source.resume()
            sources.append(source)
        }
        var received = signals.makeAsyncIterator()
        let name = await received.next() ?? "stopped"
        for source in sources { source.cancel() }
        return name
    }
}
