import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SteadfastApplication
import SteadfastCore
import SteadfastHTTP
import SteadfastHost
import SteadfastStore
import UnixSignals

/// The host's idle, lock and detection settings, shared by `run`, `send`, `resume-bookmark` and
/// `serve`; each is checked (finite, in range) before anything runs.
struct HostingOptions: ParsableArguments {
    @Option(help: "The name this host registers under as a lock owner (default: wf-HOSTNAME-PID).")
    var hostID: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Save an idle instance after this long, keeping it loaded (default: never; wf serve: 0, at once).",
            valueName: "SECONDS"))
    var timeToPersist: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Save, unlock and unload an idle instance after this long; 0 = at once (default: 60 for serve, 0 otherwise).",
            valueName: "SECONDS"))
    var timeToUnload: Double?

    @Option(
        parsing: .unconditional, help: ArgumentHelp("Time between renewals of this host's lock.", valueName: "SECONDS"))
    var lockRenewal: Double = 30

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Time between polls for runnable instances; shortened for imminent timers.", valueName: "SECONDS"))
    var detectionPeriod: Double = 5

    @Option(help: "When an instance is locked by another host: noRetry, basicRetry or aggressiveRetry.")
    var lockedRetry: RetryOption = .noRetry

    @Option(parsing: .unconditional, help: "The most instances loaded at once.")
    var maxInstances: Int = 1000

    @Option(
        help: ArgumentHelp(
            "What each instance's history and revisions record (wf history, wf show --revision): off, instance "
                + "(created, saved, loaded, unloaded, commands, the end; a revision per save) or full (also every "
                + "activity, bookmark, timer and line). Repeat as NAME=PROFILE for the instances of one "
                + "definition (e.g. --tracking instance --tracking order-approval=full).",
            valueName: "[NAME=]off|instance|full"))
    var tracking: [String] = []

    @Flag(help: "Print the host's progress (loads, saves, unloads) on stderr.")
    var verbose = false

    func validate() throws {
        _ = try hostOptions(defaultTimeToUnload: 0)
    }

    func hostOptions(defaultTimeToUnload: Double, defaultTimeToPersist: Double? = nil) throws -> HostOptions {
        guard maxInstances >= 1 else {
            throw ValidationError("--max-instances must be at least 1, not \(maxInstances).")
        }
        let renewal = try Values.seconds(lockRenewal, option: "--lock-renewal")
        let detection = try Values.seconds(detectionPeriod, option: "--detection-period")
        guard renewal >= .milliseconds(100) else {
            throw ValidationError("--lock-renewal must be at least 0.1 seconds.")
        }
        guard detection >= .milliseconds(1) else {
            throw ValidationError("--detection-period must be at least 0.001 seconds.")
        }
        var options = HostOptions(
            hostID: hostID ?? "wf-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)",
            timeToPersist: try (timeToPersist ?? defaultTimeToPersist).map {
                try Values.seconds($0, option: "--time-to-persist")
            },
            timeToUnload: try Values.seconds(timeToUnload ?? defaultTimeToUnload, option: "--time-to-unload"),
            hostLockRenewalPeriod: renewal, runnableInstancesDetectionPeriod: detection,
            maxConcurrentInstances: maxInstances)
        options.hostLockGrace = min(.seconds(30), options.hostLockRenewalPeriod)
        for setting in tracking {
            let (name, text) =
                setting.contains("=")
                ? try Values.keyValue(setting, option: "--tracking") : (nil, .string(setting))
            guard case .string(let raw) = text, let profile = TrackingProfile(rawValue: raw) else {
                throw ValidationError("--tracking '\(setting)' must be off, instance or full, or NAME= one of them.")
            }
            if let name { options.trackingByDefinition[name] = profile } else { options.tracking = profile }
        }
        switch lockedRetry {
        case .noRetry: options.instanceLockedRetry = .noRetry
        case .basicRetry: options.instanceLockedRetry = .basicRetry()
        case .aggressiveRetry: options.instanceLockedRetry = .aggressiveRetry()
        }
        return options
    }

    /// The host's logger: its events on stderr (stdout is kept for results), the workflow's own
    /// output (writeLine) and the host's progress; saves only when verbose.
    func logger(format: LogFormat = .text, timestamps: Bool = false) -> Logger {
        .wf(format: format, timestamps: timestamps, verbose: verbose)
    }
}

extension TrackingProfile: ExpressibleByArgument {}

enum RetryOption: String, CaseIterable, ExpressibleByArgument {
    case noRetry, basicRetry, aggressiveRetry
}

/// `--definitions PATH…`: definition files and folders.
struct DefinitionOptions: ParsableArguments {
    @Option(
        parsing: .upToNextOption,
        help: ArgumentHelp(
            "Definition files or folders of *.json definitions (default: $STEADFAST_DEFINITIONS, else Samples).",
            valueName: "PATH"))
    var definitions: [String] = []

    /// The definitions, or nil when none were named and the default paths do not exist.
    func loadIfAvailable() throws -> DefinitionSource? {
        guard definitions.isEmpty else { return try load() }
        guard DefinitionSource.defaultPaths.contains(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return nil
        }
        return try load()
    }

    /// Loads the definitions; a broken file is logged (on stderr) and left out.
    func load(logger: Logger = .wf()) throws -> DefinitionSource {
        let source = try DefinitionSource(paths: definitions.isEmpty ? DefinitionSource.defaultPaths : definitions)
        for problem in source.problems { logger.warning("skipped: \(problem)") }
        return source
    }
}

/// Collects events for one instance so a command can wait for it to leave this host's memory.
final class InstanceWatch: Sendable {
    private let (stream, continuation) = AsyncStream.makeStream(of: HostEvent.self)

    func record(_ event: HostEvent) { continuation.yield(event) }

    /// Waits until instance `id` has left memory: unloaded, finished, blocked, or abandoned.
    func waitForExit(of id: String) async {
        for await event in stream {
            switch event {
            case .finished(id, _), .unloaded(id, _), .abandoned(id, _), .faulted(id, _), .blocked(id, _): return
            default: continue
            }
        }
    }
}

/// Runs `body` with a host session over `service`'s store, stopping the host (saving and
/// unlocking what it holds) when `body` ends or SIGINT/SIGTERM arrives, whichever is first.
func withHost<T: Sendable>(
    _ service: WorkflowService, catalog: DefinitionCatalog, options: HostOptions, background: Bool,
    logger: Logger, onEvent: @escaping @Sendable (HostEvent) -> Void = { _ in },
    _ body: @escaping @Sendable (HostSession) async throws -> T
) async throws -> T {
    let session = HostSession(
        store: service.store, catalog: catalog, options: options, logger: logger, onEvent: onEvent)
    try await session.host.start(background: background)
    let result: Result<T, any Error> = await withTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do { return .success(try await body(session)) } catch { return .failure(error) }
        }
        group.addTask {
            let signal = await ShutdownSignal.wait()
            guard !Task.isCancelled else { return nil }
            return .failure(ApplicationError(.hostStopped, "\(signal): saved and unlocked what this host held"))
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first ?? .failure(ApplicationError(.hostStopped, "stopped"))
    }
    await session.host.stop()
    return try result.get()
}

/// Exits 2 when the instance faulted or was terminated.
func exitForOutcome(_ view: InstanceView?) throws {
    if let status = view?.status, status == .faulted || status == .terminated { throw ExitStatus.instanceFailed }
}

/// `wf run FILE`: starts an instance and runs it until it completes or goes idle.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start an instance of a definition and run it until it completes or goes idle.",
        discussion: """
            Prints the instance on stdout (JSON with --json); the workflow's output and the host's progress go to \
            stderr. An idle instance is saved and unlocked at once, so any host — `wf serve`, or `wf run --wait` \
            — can bring it back when its timer is due or a message arrives. With --wait, this command keeps \
            hosting until the instance finishes, here or on another host. Exit 2 if it faulted or was terminated.
            """)

    @Argument(help: "The definition file (JSON).") var file: String
    @Option(help: "A JSON object setting variables, e.g. '{\"records\": 10}'.") var input: String?
    @Flag(help: "Keep hosting until the instance finishes (timers fire, messages are taken).") var wait = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var writeOptions: WriteOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        let watch = InstanceWatch()
        // Everything that can be refused is checked before the store is opened (or created).
        let (source, variables) = try await reportingErrors(json: output.json) {
            (try DefinitionSource(paths: [file]), try input.map { try Values.object($0, option: "--input") } ?? [:])
        }
        guard let definition = source.catalog.definitions.first else { throw ExitCode.failure }
        let view = try await withService(
            writeOptions.configure(storeOptions.configuration), json: output.json, mustExist: false
        ) { service in
            try await withHost(
                service, catalog: source.catalog, options: try hosting.hostOptions(defaultTimeToUnload: 0),
                background: wait,
                logger: hosting.logger(), onEvent: { event in watch.record(event) }
            ) { session in
                let id = try await service.start(definition.name, input: variables, through: session)
                if wait { return try await service.waitUntilFinished(id, session: session) }
                await watch.waitForExit(of: id.uuidString)
                return try await service.view(of: id, session: session)
            }
        }
        try render(view, json: output.json)
        try exitForOutcome(view)
    }
}

/// Prints an instance: JSON, or the detail text.
func render(_ view: InstanceView?, json: Bool) throws {
    if json {
        try printJSON(view)
    } else {
        print(
            view?.detailText ?? "The instance finished on another host and was deleted (completion action deleteAll).")
    }
}

/// What `send` and `resume-bookmark` take besides the message.
struct MessageOptions: ParsableArguments {
    @Option(help: "The message body (JSON); for `send`, its correlation key field routes it.") var body: String = "{}"
    @OptionGroup var delivery: DeliveryOptions

    func parsedBody() throws -> JSONValue { try JSONValue.parse(body, what: "--body") }
}

/// Prints what became of a message or command.
func render(_ outcome: CommandOutcome, json: Bool) throws {
    if let waiting = outcome.waiting { printError("wf: stored as inbox entry \(outcome.entry.id); \(waiting)") }
    if json {
        try printJSON(outcome)
    } else {
        try render(outcome.instance, json: false)
    }
}

/// `wf send OPERATION --body JSON`: delivers a correlated message.
struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Deliver a message, routed by its correlation key; a receive with createsInstance may start an instance.",
        discussion: """
            The message is stored in the instance's inbox whoever holds the instance, and applied in order by the host \
            that runs it: this process when it can load the instance now, else the host holding it, or any host of its \
            definition. A message that arrives before its Receive opens waits there. Exit 2 if the instance faulted or \
            was terminated.
            """)

    @Argument(help: "The operation a receive waits for.") var operation: String
    @OptionGroup var message: MessageOptions
    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var writeOptions: WriteOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        // Everything that can be refused is checked before the store is opened (or created).
        let (catalog, body) = try await reportingErrors(json: output.json) {
            (try definitions.load().catalog, try message.parsedBody())
        }
        let outcome = try await withService(
            writeOptions.configure(storeOptions.configuration), json: output.json, mustExist: false
        ) { service in
            try await withHost(
                service, catalog: catalog, options: try hosting.hostOptions(defaultTimeToUnload: 0),
                background: message.delivery.wait == .completed, logger: hosting.logger()
            ) { session in
                try await service.send(
                    operation, body: body, clientID: message.delivery.clientID, through: session,
                    wait: message.delivery.wait,
                    timeout: message.delivery.timeoutDuration)
            }
        }
        try render(outcome, json: output.json)
        try exitForOutcome(outcome.instance)
    }
}

/// `wf resume-bookmark ID OPERATION --body JSON`: delivers a message to an instance by id.
struct ResumeBookmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver a message to an instance by id (its open bookmark for OPERATION).")

    @Argument(help: ArgumentHelp("The instance id, or a unique prefix of it.", valueName: "ID")) var id: String
    @Argument(help: "The operation of the bookmark.") var operation: String
    @OptionGroup var message: MessageOptions
    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var writeOptions: WriteOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var hosting: HostingOptions

    func run() async throws {
        let outcome = try await withService(writeOptions.configure(storeOptions.configuration), json: output.json) {
            service in
            let instance = try await service.resolveID(id)
            let body = try message.parsedBody()
            let timeout = message.delivery.timeoutDuration
            // Without definitions here, the message is stored for the host that runs the instance.
            guard let source = try definitions.loadIfAvailable() else {
                _ = try await service.show(instance)
                return try await service.resume(
                    instance, operation: operation, body: body, clientID: message.delivery.clientID, through: nil,
                    wait: message.delivery.wait, timeout: timeout)
            }
            return try await withHost(
                service, catalog: source.catalog, options: try hosting.hostOptions(defaultTimeToUnload: 0),
                background: message.delivery.wait == .completed, logger: hosting.logger()
            ) { session in
                try await service.resume(
                    instance, operation: operation, body: body, clientID: message.delivery.clientID, through: session,
                    wait: message.delivery.wait, timeout: timeout)
            }
        }
        try render(outcome, json: output.json)
        try exitForOutcome(outcome.instance)
    }
}

/// `wf serve`: a long-running host.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Host definitions: fire timers, apply messages and control commands, until SIGINT/SIGTERM.",
        discussion: "On SIGINT or SIGTERM, loaded instances are saved and unlocked before the host exits.")

    @OptionGroup var definitions: DefinitionOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var writeOptions: WriteOptions
    @OptionGroup var hosting: HostingOptions
    @Option(help: ArgumentHelp("How log lines are written on stderr.", valueName: "text|json"))
    var logFormat: LogFormat = .text
    @Flag(help: "Write JSON log lines (the same as --log-format json); startup errors as a JSON error object.")
    var json = false
    @Option(
        help: ArgumentHelp(
            "Serve the HTTP API on this address and port (port 0: any free one; the log says which).",
            valueName: "address:port"))
    var http: String?
    @Option(
        help: ArgumentHelp(
            "Require 'Authorization: Bearer TOKEN' on every HTTP route but /healthz (default: $STEADFAST_AUTH_TOKEN).",
            valueName: "token"))
    var authToken: String?
    @Option(help: ArgumentHelp("The largest HTTP request body accepted, in bytes.", valueName: "bytes"))
    var maxBodySize = 1 << 20

    func run() async throws {
        // A served instance stays loaded for a minute, but its idle state is saved at once: what
        // the store shows (wf show, GET /v1/instances/{id}, ?wait=idle) is what it is.
        let options = try hosting.hostOptions(defaultTimeToUnload: 60, defaultTimeToPersist: 0)
        var hostLogger = hosting.logger(format: json ? .json : logFormat, timestamps: true)
        hostLogger[metadataKey: "host"] = .string(options.hostID)
        let logger = hostLogger
        let catalog = try await reportingErrors(json: json) { try definitions.load(logger: logger).catalog }
        let httpOptions = try await reportingErrors(json: json) { try httpServerOptions() }
        var configuration = writeOptions.configure(storeOptions.configuration)
        configuration.logger = logger
        try await withService(configuration, json: json, mustExist: false) { service in
            let hosted = catalog.definitions.map { "\($0.name) v\($0.version)" }.joined(separator: ", ")
            try await serve(
                service: service, catalog: catalog, options: options, http: httpOptions, logger: logger
            ) {
                logger.info("wf serve: hosting \(hosted) as \(options.hostID); stop with Ctrl-C")
            }
        }
    }

    /// `--http`, `--auth-token` and `--max-body-size` checked, or nil without `--http`.
    private func httpServerOptions() throws(ApplicationError) -> HTTPServerOptions? {
        guard let http else { return nil }
        guard let colon = http.lastIndex(of: ":"), let port = Int(http[http.index(after: colon)...]),
            (0...65_535).contains(port)
        else {
            throw ApplicationError(
                .invalidInput,
                "--http must be ADDRESS:PORT with a port from 0 to 65535, e.g. 127.0.0.1:8080, not '\(http)'")
        }
        var host = String(http[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard (1...1 << 30).contains(maxBodySize) else {
            throw ApplicationError(
                .invalidInput, "--max-body-size must be from 1 to 1073741824 bytes, not \(maxBodySize)")
        }
        let token =
            authToken
            ?? ProcessInfo.processInfo.environment["STEADFAST_AUTH_TOKEN"].flatMap {
                $0.isEmpty ? nil : $0
            }
        return HTTPServerOptions(
            host: host.isEmpty ? "127.0.0.1" : host, port: port, authToken: token, maxBodySize: maxBodySize)
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
        let cancel = { @Sendable in continuation.finish() }
        let name = await withTaskCancellationHandler {
            var received = signals.makeAsyncIterator()
            return await received.next() ?? "stopped"
        } onCancel: {
            cancel()
        }
        for source in sources { source.cancel() }
        return name
    }
}

/// Runs a host as a service until SIGINT/SIGTERM, with the HTTP API when `http` is set;
/// `started` is called once the host is up. On shutdown the HTTP server stops first (it stops
/// accepting and finishes the requests in flight), then the host saves and unlocks.
func serve(
    service: WorkflowService, catalog: DefinitionCatalog, options: HostOptions, http: HTTPServerOptions? = nil,
    logger: Logger, started: @escaping @Sendable () -> Void
) async throws {
    let session = HostSession(store: service.store, catalog: catalog, options: options, logger: logger)
    // The service group's and the HTTP server's start-up chatter, and each request, only when verbose.
    var quiet = logger
    quiet.logLevel = logger.logLevel == .debug ? .debug : .notice
    var services: [any Service] = [session.host]
    if let http {
        services.append(
            try HTTPAPI.server(
                service: service, session: session, options: http, logger: quiet, metrics: HTTPAPI.bootstrapMetrics()
            ) { address in
                logger.info("wf serve: HTTP API on \(address)")
            })
    }
    // A group stops its services in reverse order.
    services.append(StartedNotice(notify: started))
    let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet)
    try await group.run()
}

/// Says the host is up, then waits for shutdown like the other services of the group.
private struct StartedNotice: Service {
    var notify: @Sendable () -> Void

    func run() async throws {
        notify()
        try? await gracefulShutdown()
    }
}
