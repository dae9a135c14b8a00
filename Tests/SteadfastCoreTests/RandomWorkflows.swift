@testable import SteadfastCore

/// SplitMix64: a small, seedable, platform-independent random generator.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { int(1...100) <= percent }
}

/// Generates random workflow definitions that nest every activity kind.
struct WorkflowGenerator {
    var random: SeededRandom
    private var loops = 0
    private var size = 0
    static let numbers = ["v0", "v1", "v2", "v3"]
    static let operations = ["a", "b", "c"]

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    mutating func definition() throws -> WorkflowDefinition {
        loops = 0
        size = 0
        let body = Activity.sequence(children(depth: 0, inNoPersist: false, count: random.int(3...6)))
        var variables: [String: JSONValue] = ["msg": nil, "err": nil, "out": nil]
        for name in Self.numbers { variables[name] = .number(Double(random.int(0...9))) }
        for loop in 0..<loops { variables["c\(loop)"] = 0 }
        return try WorkflowDefinition(
            name: "random", version: "1", variables: variables,
            body: .sequence([body, .writeLine(text: "'end ' + v0 + v1 + v2 + v3")]),
            registry: testRegistry)
    }

    private mutating func number() -> String { Self.numbers[random.int(0...3)] }

    private mutating func arithmetic() -> String {
        switch random.int(0...5) {
        case 0: "(\(number()) * 3 + \(number()) + \(random.int(0...9))) % 97"
        case 1: "\(number()) - \(random.int(0...5))"
        case 2: "\(number()) / (\(number()) + 1)"
        case 3: "\(number()) % (\(number()) + 2)"
        case 4: random.chance(15) ? "\(number()) / \(number())" : "len(string(msg)) + \(number())"
        default: "number(string(\(number()))) + 1"
        }
    }

    private mutating func condition() -> String {
        let ops = ["<", "<=", ">", ">=", "==", "!="]
        let base = "\(number()) \(ops[random.int(0...5)]) \(random.int(0...9))"
        return random.chance(30) ? "\(base) && !(\(number()) == 3) || msg == null" : base
    }

    private mutating func activity(depth: Int, inNoPersist: Bool) -> Activity {
        size += 1
        let leafOnly = depth >= 4 || size > 40
        let choice =
            leafOnly ? random.int(0...8) : depth <= 1 && random.chance(50) ? random.int(8...16) : random.int(0...16)
        // A noPersist scope may not wait for a timer or a message (only for async calls).
        if inNoPersist, [2, 4, 8].contains(choice) { return .assign(to: "out", value: "v0") }
        switch choice {
        case 0: return .assign(to: number(), value: arithmetic())
        case 1: return .writeLine(text: "'w' + \(number()) + ' ' + string(msg)")
        case 2:
            return random.chance(70)
                ? .delay(.duration("PT\(random.int(1...90))S"))
                : .delay(.until("addDuration(now(), 'PT\(random.int(1...30))M')"))
        case 3: return inNoPersist ? .assign(to: "out", value: "v0") : .persist
        case 4:
            return .receive(
                Activity.Receive(
                    operation: Self.operations[random.int(0...2)], assignTo: random.chance(60) ? "msg" : nil))
        case 5:
            let name = ["double", "slowDouble", "slowDouble", "fail"][random.int(0...3)]
            if name == "fail" && !random.chance(30) { return .assign(to: "out", value: "1") }
            return .invoke(Activity.Invoke(activity: name, input: name == "fail" ? "v1" : number(), assignTo: number()))
        case 6: return random.chance(25) ? .throw(message: "'thrown ' + \(number())") : .writeLine(text: "v2")
        case 7:
            return random.chance(15) ? .terminate(reason: "'stop at ' + v3") : .assign(to: "out", value: "string(v3)")
        case 8:
            return .pick(
                (0..<random.int(1...3)).map { _ in
                    let trigger: Activity =
                        random.chance(50)
                        ? .receive(
                            Activity.Receive(
                                operation: Self.operations[random.int(0...2)], assignTo: random.chance(50) ? "msg" : nil
                            ))
                        : .delay(.duration("PT\(random.int(1...60))S"))
                    return Activity.PickBranch(
                        trigger: trigger, action: random.chance(60) ? .writeLine(text: "'picked ' + v1") : nil)
                })
        case 9, 10: return .sequence(children(depth: depth, inNoPersist: inNoPersist, count: random.int(1...4)))
        case 11: return .parallel(children(depth: depth, inNoPersist: inNoPersist, count: random.int(2...3)))
        case 12:
            return .if(
                condition: condition(), then: activity(depth: depth + 1, inNoPersist: inNoPersist),
                else: random.chance(50) ? activity(depth: depth + 1, inNoPersist: inNoPersist) : nil)
        case 13:
            let counter = "c\(loops)"
            loops += 1
            return .while(
                condition: "\(counter) < \(random.int(1...3))",
                body: .sequence([
                    .assign(to: counter, value: "\(counter) + 1"), activity(depth: depth + 1, inNoPersist: inNoPersist),
                ]))
        case 14:
            return .tryCatch(
                try: activity(depth: depth + 1, inNoPersist: inNoPersist),
                catch: activity(depth: depth + 1, inNoPersist: inNoPersist),
                errorTo: random.chance(70) ? "err" : nil)
        case 15: return .noPersist(body: activity(depth: depth + 1, inNoPersist: true))
        default:
            return .tryCatch(
                try: .sequence(
                    children(depth: depth, inNoPersist: inNoPersist, count: 2) + [.throw(message: "'planned'")]),
                catch: .writeLine(text: "err.message"), errorTo: "err")
        }
    }

    private mutating func children(depth: Int, inNoPersist: Bool, count: Int) -> [Activity] {
        (0..<count).map { _ in activity(depth: depth + 1, inNoPersist: inNoPersist) }
    }
}

/// Drives an instance to its end with events chosen by a seeded generator, optionally
/// serializing, decoding and reloading it into a fresh interpreter at every idle point.
struct WorkflowDriver {
    struct Outcome: Equatable {
        var state: InstanceState
        var lines: [String]
        var trace: [TraceEvent]
        var events: Int
        var reloads: Int
    }

    let definition: WorkflowDefinition
    /// The definition a reload uses: compiled again from its JSON, as another process would.
    let reloadDefinition: WorkflowDefinition

    func run(seed: UInt64, interrupt: Bool, maxEvents: Int = 400) throws -> Outcome {
        var random = SeededRandom(seed: seed)
        var now = t0
        var instance = try WorkflowInstance(definition: definition, instanceID: "prop-\(seed)")
        instance.tracing = true
        var outcome = Outcome(state: instance.state, lines: [], trace: [], events: 0, reloads: 0)
        var pendingCalls: [AsyncCall] = []
        func absorb(_ result: RunResult) {
            outcome.lines += result.lines
            outcome.trace += result.trace
            pendingCalls += result.asyncCalls
        }
        absorb(instance.run(now: now))
        while !instance.state.status.isFinal && outcome.events < maxEvents {
            if interrupt && instance.state.canPersist {
                let encoded = try instance.state.encoded()
                instance = try WorkflowInstance(definition: reloadDefinition, encodedState: encoded)
                instance.tracing = true
                outcome.reloads += 1
            }
            enum Event {
                case message(String)
                case timer(Instant)
                case async(AsyncCall)
                case acknowledge
            }
            var events: [Event] = instance.state.bookmarks.map { .message($0.operation) }
            events += instance.state.timers.map { .timer($0.due) }
            events += pendingCalls.map { .async($0) }
            if instance.state.persistPending && instance.state.canPersist { events.append(.acknowledge) }
            guard !events.isEmpty else { break }
            outcome.events += 1
            switch events[random.int(0...events.count - 1)] {
            case .message(let operation):
                absorb(
                    try instance.resume(
                        operation: operation, message: ["n": .number(Double(random.int(0...99)))], now: now))
            case .timer(let due):
                now = max(now, due)
                absorb(instance.resumeDueTimers(now: now))
            case .async(let call):
                pendingCalls.removeAll { $0.call == call.call }
                let outcome: InvokeOutcome =
                    if case .number(let value) = call.input { .success(.number(value * 2)) } else {
                        .failure("not a number")
                    }
                // A call whose activity was canceled meanwhile (a pick, a fault) has no waiter:
                // the host ignores its late result, and so does this driver.
                do {
                    absorb(try instance.completeAsync(call: call.call, outcome: outcome, now: now))
                } catch {
                    guard error.code == .noSuchAsyncCall else { throw error }
                }
            case .acknowledge:
                absorb(instance.acknowledgePersist(now: now))
            }
        }
        outcome.state = instance.state
        return outcome
    }
}
