import Foundation
import InstanceStoreContract
import SteadfastCore
import SteadfastPostgres
import SteadfastSQLite
import SteadfastStore
import Testing

/// What one run of the `wf` binary did.
struct WFRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }

    /// stdout parsed as JSON.
    func json() throws -> Any {
        try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
    }

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Finds the built `wf` executable: `$WF_BINARY` if set, else the build products folder that holds
/// this test bundle (`swift test` builds every product, `wf` included, into that folder).
enum WFBinary {
    static let url: URL? = locate()

    static func locate() -> URL? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["WF_BINARY"], !path.isEmpty { return URL(fileURLWithPath: path) }
        var folders: [URL] = []
        // Linux: the test bundle is an executable in the products folder; macOS: a bundle in it.
        folders.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        folders.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        folders.append(Bundle.main.bundleURL)
        folders.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            folders.append(bundle.bundleURL.deletingLastPathComponent())
        }
        for folder in folders {
            let candidate = folder.appendingPathComponent("wf")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory),
                !isDirectory.boolValue,
                FileManager.default.isExecutableFile(atPath: candidate.path)
            {
                return candidate
            }
        }
        return nil
    }
}

/// Which store a fixture opens.
enum StoreKind: String, Sendable, CustomStringConvertible {
    case sqlite, postgres

    /// SQLite always; PostgreSQL when the tests have a server (see `PostgresTestServer`).
    static var available: [StoreKind] { PostgresTestServer.enabled ? [.sqlite, .postgres] : [.sqlite] }

    var description: String { rawValue }
}

/// A temporary folder and a store (a SQLite file in the folder, or a fresh database on the
/// PostgreSQL test server), the store opened in-process (as a host would have it) to create
/// instances and check what `wf` did.
final class StoreFixture: Sendable {
    let folder: URL
    let url: String
    let store: any InstanceStore
    /// The PostgreSQL database to drop at the end.
    let database: String?

    static let definitionJSON = """
        { "name": "order", "version": "1",
          "variables": { "orderId": null, "status": "new", "notes": "" },
          "keys": ["orderId"],
          "body": { "sequence": [
            { "pick": [
              { "trigger": { "receive": { "operation": "approve", "correlateOn": "orderId" } },
                "action": { "assign": { "to": "status", "value": "'approved'" } } },
              { "trigger": { "delay": { "duration": "PT1H" } },
                "action": { "assign": { "to": "status", "value": "'expired'" } } } ] },
            { "writeLine": { "text": "'order ' + orderId + ' is ' + status" } } ] } }
        """

    static let definition: WorkflowDefinition = {
        do {
            return try WorkflowDefinition(json: Data(definitionJSON.utf8))
        } catch {
            fatalError("the test definition does not load: \(error)")
        }
    }()

    /// Well in the past, so the instances' one-hour timers are already due.
    static let started = Instant(millisecondsSinceEpoch: 1_700_000_000_000)

    /// With `postgresURL`, the PostgreSQL fixture uses that database (on a server of the test's
    /// own) rather than a new one on the shared test server.
    init(_ kind: StoreKind = .sqlite, postgresURL: String? = nil) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("wf-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch kind {
        case .sqlite:
            url = "sqlite:" + folder.appendingPathComponent("instances.db").path
            database = nil
            store = try await SQLiteInstanceStore(url: url)
        case .postgres:
            if let postgresURL {
                url = postgresURL
                database = nil
            } else {
                let created = try PostgresTestServer.createDatabase()
                url = created.url
                database = created.name
            }
            store = try await PostgresInstanceStore(url: url)
        }
        try await store.setCompletionAction(.deleteNothing)
    }

    func destroy() async {
        await store.close()
        if let database { PostgresTestServer.dropDatabase(database) }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Starts an instance of the test definition and stores it idle, waiting for `approve` and
    /// a timer. With `lockedBy`, it stays locked to a live owner of that host id.
    @discardableResult
    func createInstance(orderId: Int, notes: String = "", lockedBy host: String? = nil) async throws -> UUID {
        let id = UUID()
        var instance = try WorkflowInstance(
            definition: Self.definition,
            instanceID: id.uuidString,
            input: ["orderId": .number(Double(orderId)), "notes": .string(notes)]
        )
        let result = instance.run(now: Self.started)
        #expect(result.status == .idle)
        let owner = try await store.createLockOwner(hostID: host ?? "test-setup", lockDuration: .seconds(300))
        _ = try await store.createInstance(
            CreateInstanceRequest(
                id: id,
                owner: owner.id,
                definition: Self.definition.identity,
                snapshot: try Self.snapshot(of: instance.state)
            )
        )
        if host == nil { try await store.deleteLockOwner(owner.id) }
        return id
    }

    /// An instance whose state bytes are not an instance state at all.
    func createCorruptInstance() async throws -> UUID {
        let owner = try await store.createLockOwner(hostID: "test-setup", lockDuration: .seconds(300))
        let record = try await store.createInstance(
            CreateInstanceRequest(
                owner: owner.id,
                definition: Self.definition.identity,
                snapshot: InstanceSnapshot(state: Data("this is not a state".utf8), status: .idle)
            )
        )
        try await store.deleteLockOwner(owner.id)
        return record.id
    }

    /// Creates an instance and finishes it with `status` through a completing save.
    func createFinishedInstance(orderId: Int, status: SteadfastCore.InstanceStatus) async throws -> UUID {
        let id = try await createInstance(orderId: orderId)
        let owner = try await store.createLockOwner(hostID: "test-setup", lockDuration: .seconds(300))
        let loaded = try await store.loadInstance(id, owner: owner.id)
        let state = try InstanceState.decode(loaded.record.state).ended(as: status, reason: "test")
        var snapshot = try Self.snapshot(of: state)
        snapshot.status = status
        _ = try await store.save(
            SaveRequest(
                instanceID: id,
                owner: owner.id,
                expectedVersion: loaded.version,
                snapshot: snapshot,
                lockAction: .complete
            )
        )
        try await store.deleteLockOwner(owner.id)
        return id
    }

    static func snapshot(of state: InstanceState) throws -> InstanceSnapshot {
        InstanceSnapshot(
            state: try state.encoded(),
            status: state.status,
            nextTimerAt: state.nextTimer.map { Date(timeIntervalSince1970: $0.secondsSinceEpoch) },
            keys: Set(state.keys.map { InstanceKey(name: $0.key, value: $0.value) }),
            bookmarks: Set(state.bookmarks.map(\.operation))
        )
    }

    /// Runs `wf` in the fixture's folder with `STEADFAST_STORE` unset (plus `environment`).
    func wf(_ arguments: String..., environment: [String: String] = [:]) async throws -> WFRun {
        try await runWF(arguments, in: folder, environment: environment)
    }

    func wf(_ arguments: [String], environment: [String: String] = [:]) async throws -> WFRun {
        try await runWF(arguments, in: folder, environment: environment)
    }
}

/// Runs the `wf` binary with `arguments` in `folder`, collecting its exit status and output.
func runWF(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) async throws -> WFRun {
    let binary = try #require(
        WFBinary.url,
        "the wf binary was not found next to the test bundle; build it (swift build) or set WF_BINARY"
    )
    let tag = UUID().uuidString
    let outURL = folder.appendingPathComponent("stdout-\(tag)")
    let errURL = folder.appendingPathComponent("stderr-\(tag)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let outHandle = try FileHandle(forWritingTo: outURL)
    let errHandle = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.currentDirectoryURL = folder
    var processEnvironment = ProcessInfo.processInfo.environment
    processEnvironment["STEADFAST_STORE"] = nil
    processEnvironment.merge(environment) { _, given in given }
    process.environment = processEnvironment
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = FileHandle.nullDevice
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try outHandle.close()
    try errHandle.close()
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    return WFRun(
        status: status,
        stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
        stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
    )
}

/// Checks the error contract: a failure exit, nothing on stdout, one `wf: ` line on stderr.
func expectOneLineError(
    _ run: WFRun,
    containing fragment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(run.status != 0, "\(run)", sourceLocation: sourceLocation)
    #expect(run.stdout.isEmpty, "\(run)", sourceLocation: sourceLocation)
    #expect(run.stderrLines.count == 1, "\(run)", sourceLocation: sourceLocation)
    #expect(run.stderr.hasPrefix("wf: "), "\(run)", sourceLocation: sourceLocation)
    #expect(run.stderr.contains(fragment), "\(run)", sourceLocation: sourceLocation)
}

/// Checks the `--json` error contract: a failure exit, only `{"error": {"code", "message"}}` on
/// stdout with the expected code, nothing on stderr.
func expectJSONError(_ run: WFRun, code: String, exit: Int32 = 1, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.status == exit, "\(run)", sourceLocation: sourceLocation)
    #expect(run.stderr.isEmpty, "\(run)", sourceLocation: sourceLocation)
    let error = ((try? run.json()) as? [String: Any])?["error"] as? [String: Any]
    #expect(error?["code"] as? String == code, "\(run)", sourceLocation: sourceLocation)
    #expect((error?["message"] as? String)?.isEmpty == false, "\(run)", sourceLocation: sourceLocation)
}
