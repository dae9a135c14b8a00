import CLibFuzzer
import Foundation
import SteadfastCore

/// What the three harnesses share: the repository's sample definitions and a fixed clock.
public enum FuzzSupport {
    /// A fixed "now", so a run depends on its input alone.
    public static let now = Instant(millisecondsSinceEpoch: 1_767_225_600_000)  // 2026-01-01T00:00:00Z

    /// Steps an instance may take per run: enough for real work, few enough to stay fast.
    public static let stepLimit = 2_000

    /// The repository's `Samples/` folder, found from this file's path at build time.
    public static let samplesDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // FuzzSupport
        .deletingLastPathComponent()  // Sources
        .deletingLastPathComponent()  // Fuzz
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("Samples")

    /// The sample definitions by name (read once; a missing folder gives none).
    public static let samples: [String: WorkflowDefinition] = {
        var found: [String: WorkflowDefinition] = [:]
        let files = (try? FileManager.default.contentsOfDirectory(atPath: samplesDirectory.path)) ?? []
        for file in files.sorted() where file.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: samplesDirectory.appendingPathComponent(file).path),
                let definition = try? WorkflowDefinition(json: data, registry: registry, checkInvokes: false)
            else { continue }
            found[definition.name] = definition
        }
        return found
    }()

    /// Custom activities a fuzzed definition may invoke: each echoes its input.
    public static let registry: ActivityRegistry = {
        var registry = ActivityRegistry()
        for name in ["echo", "charge", "notify", "lookup"] { registry.register(name) { $0 } }
        return registry
    }()

    /// Runs an instance of `definition` from its start, then fires its timers once: the
    /// interpreter must fault, block or finish, never crash.
    public static func exercise(_ definition: WorkflowDefinition, input: [String: JSONValue] = [:]) {
        guard var instance = try? WorkflowInstance(definition: definition, instanceID: "fuzz", input: input) else {
            return
        }
        instance.stepLimit = stepLimit
        exercise(&instance)
    }

    /// Goes on with a loaded instance: runs it, delivers one message per open bookmark, fires
    /// due timers, and checks that its state survives a save and a load.
    public static func exercise(_ instance: inout WorkflowInstance) {
        instance.stepLimit = stepLimit
        var result = instance.run(now: now)
        for bookmark in result.bookmarks.prefix(4) where !result.status.isFinal {
            let message: JSONValue = [
                "orderId": "o-1", "id": 1, "approved": true, "amount": 12.5, "items": [1, 2, 3],
            ]
            if let next = try? instance.resume(operation: bookmark.operation, message: message, now: now) {
                result = next
            }
        }
        if let due = result.nextTimer, !result.status.isFinal {
            result = instance.resumeDueTimers(now: due)
        }
        if result.persistRequested { _ = instance.acknowledgePersist(now: now) }
        checkRoundTrip(instance.state, of: instance.definition)
    }

    /// A state the interpreter produced must decode to itself and load again.
    public static func checkRoundTrip(_ state: InstanceState, of definition: WorkflowDefinition) {
        // `try?`: encoding may refuse a state past the depth limit (and older builds never throw).
        guard let encoded = try? state.encoded() else { return }
        let decoded: InstanceState
        do {
            decoded = try InstanceState.decode(encoded)
        } catch {
            fatalError("a state written by encoded() does not decode: \(error)\n\(String(decoding: encoded, as: UTF8.self))")
        }
        guard decoded == state else {
            fatalError("a state changes in an encode/decode round trip:\n\(String(decoding: encoded, as: UTF8.self))")
        }
        do {
            _ = try WorkflowInstance(definition: definition, state: decoded)
        } catch {
            fatalError("a state written by the interpreter does not load again: \(error)")
        }
    }

    /// A libFuzzer entry point.
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Runs libFuzzer's driver on `test` with this process's arguments, and exits with its status.
    public static func runLibFuzzer(_ test: TestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, test))
    }

    /// Where an empty input points when libFuzzer passes no buffer.
    nonisolated(unsafe) public static let empty: UnsafePointer<UInt8> = {
        let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()

    /// The fuzz input as bytes.
    public static func data(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> Data {
        Data(bytes: bytes, count: size)
    }
}
