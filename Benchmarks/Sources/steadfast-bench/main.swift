import Foundation
import SteadfastCore

// Core interpreter benchmarks: activities interpreted per second and encoded state sizes.
// Prints one table; numbers from one run on one machine are meant to be compared as ratios.

let start = Instant(iso8601: "2026-01-01T00:00:00Z")!

/// A 100-activity workflow of the everyday kinds: assignments, conditions, output, a custom
/// activity, a loop, a try/catch; `idleAt` puts a Receive in the middle so the state can be
/// measured while the instance waits.
func hundredActivities(idle: Bool) throws -> WorkflowDefinition {
    var registry = ActivityRegistry()
    registry.register("increment") { input in
        if case .number(let value) = input { return .number(value + 1) }
        return input
    }
    var steps: [Activity] = []
    var index = 0
    while steps.count < 100 {
        switch index % 6 {
        case 0: steps.append(.assign(to: "total", value: "total + price * \(index % 7 + 1)"))
        case 1:
            steps.append(
                .if(
                    condition: "total > 1000", then: .assign(to: "total", value: "total % 1000"),
                    else: .assign(to: "n", value: "n + 1")))
        case 2: steps.append(.writeLine(text: "'step \(index): ' + total"))
        case 3: steps.append(.invoke(Activity.Invoke(activity: "increment", input: "n", assignTo: "n")))
        case 4: steps.append(.assign(to: "order.totals.k\(index % 5)", value: "total"))
        default:
            steps.append(
                .tryCatch(
                    try: .assign(to: "ratio", value: "total / n"), catch: .assign(to: "ratio", value: "0"),
                    errorTo: "error"))
        }
        if idle && steps.count == 50 {
            steps.append(.receive(Activity.Receive(operation: "continue", assignTo: "message")))
        }
        index += 1
    }
    return try WorkflowDefinition(
        name: "bench-100", version: "1",
        variables: [
            "total": 0, "price": 12.5, "n": 0, "ratio": 0, "order": ["id": "A-1", "lines": []], "error": nil,
            "message": nil,
        ],
        body: .sequence(Array(steps.prefix(100))), registry: registry)
}

/// Counts the activities one run starts (each composite and each leaf counts once).
func activitiesPerRun(_ definition: WorkflowDefinition) throws -> Int {
    var instance = try WorkflowInstance(definition: definition, instanceID: "count")
    instance.tracing = true
    return instance.run(now: start).trace.filter { $0.kind == .started }.count
}

func measure(seconds: Double = 1.0, _ body: () throws -> Int) rethrows -> Double {
    let clock = ContinuousClock()
    var units = 0
    let began = clock.now
    var elapsed = Duration.zero
    repeat {
        units += try body()
        elapsed = clock.now - began
    } while elapsed < .milliseconds(Int64(seconds * 1000))
    return Double(units) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

func format(_ value: Double) -> String {
    value >= 100
        ? String(Int(value.rounded())).reversed().enumerated().map { $0 > 0 && $0 % 3 == 0 ? "\($1)," : "\($1)" }
            .reversed().joined() : String(format: "%.2f", value)
}

var rows: [(String, String, String)] = []

// 1. Straight-line 100-activity workflow, run start to completion.
let straight = try hundredActivities(idle: false)
let perRun = try activitiesPerRun(straight)
let straightRate = try measure {
    var instance = try WorkflowInstance(definition: straight, instanceID: "b")
    precondition(instance.run(now: start).status == .completed)
    return perRun
}
rows.append(("100-activity workflow, start to completion", format(straightRate), "activities/s"))
rows.append(("  same, whole workflows", format(straightRate / Double(perRun)), "workflows/s"))

// 2. A tight loop: a While with a 3-activity body, 10,000 iterations per run.
let loop = try WorkflowDefinition(name: "bench-loop", version: "1", variables: ["i": 0, "sum": 0]) {
    While("i < 10000") {
        Assign("sum", "sum + i % 7")
        Assign("i", "i + 1")
    }
}
let loopActivities = try activitiesPerRun(loop)

let loopRate = try measure {
    var instance = try WorkflowInstance(definition: loop, instanceID: "b")
    precondition(instance.run(now: start).status == .completed)
    return loopActivities
}
rows.append(("while loop, 2 assigns per iteration", format(loopRate), "activities/s"))

// 3. The 100-activity workflow idle at a Receive halfway: state size, encode, decode + reload.
let idleDefinition = try hundredActivities(idle: true)
var idle = try WorkflowInstance(definition: idleDefinition, instanceID: "3f2a9c1e-6d3b-4f7a-9b8e-0c1d2e3f4a5b")
precondition(idle.run(now: start).status == .idle)
let encoded = try idle.state.encoded()
rows.append(("state of the 100-activity workflow, idle halfway", "\(encoded.count)", "bytes (JSON)"))
let encodeRate = try measure(seconds: 0.5) {
    _ = try idle.state.encoded()
    return 1
}
rows.append(("  encode that state", format(encodeRate), "states/s"))
let decodeRate = try measure(seconds: 0.5) {
    _ = try WorkflowInstance(definition: idleDefinition, encodedState: encoded)
    return 1
}
rows.append(("  decode, check and load that state", format(decodeRate), "states/s"))
let resumeRate = try measure(seconds: 0.5) {
    var copy = try WorkflowInstance(definition: idleDefinition, encodedState: encoded)
    let status = try copy.resume(operation: "continue", message: ["ok": true], now: start).status
    precondition(status == .completed)
    return 1
}
rows.append(("  load + resume that state to completion", format(resumeRate), "resumes/s"))

// 4. A wide frame tree: 100 parallel receives all waiting.
let wide = try WorkflowDefinition(
    name: "bench-wide", version: "1",
    body: .parallel((0..<100).map { .receive(Activity.Receive(operation: "op\($0)")) }))
var wideInstance = try WorkflowInstance(definition: wide, instanceID: "3f2a9c1e-6d3b-4f7a-9b8e-0c1d2e3f4a5b")
_ = wideInstance.run(now: start)
rows.append(("state with 100 parallel open bookmarks", "\(try wideInstance.state.encoded().count)", "bytes (JSON)"))

let widths = (rows.map(\.0.count).max() ?? 0, rows.map(\.1.count).max() ?? 0)
func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let space = String(repeating: " ", count: max(0, width - text.count))
    return right ? space + text : text + space
}
print("Steadfast core benchmark (\(ProcessInfo.processInfo.activeProcessorCount) cores, release build)")
print("\(pad("benchmark", widths.0))  \(pad("value", widths.1, right: true))  unit")
print(String(repeating: "-", count: widths.0 + widths.1 + 18))
for (name, value, unit) in rows { print("\(pad(name, widths.0))  \(pad(value, widths.1, right: true))  \(unit)") }
