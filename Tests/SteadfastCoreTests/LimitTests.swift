import Foundation
import Testing

@testable import SteadfastCore

/// The engine's limits (``WorkflowLimits``): inputs that once crashed a host with a stack
/// overflow, or saved a state no host could load, now get a clear error or fault one instance.
/// Each deep input is parsed inside a task, on a cooperative thread's stack, as a host does.
@Suite struct LimitTests {
    /// Runs `body` in a task, as the host runs the interpreter.
    func inTask<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await Task { try body() }.value
    }

    func syntaxError(_ source: String) async throws -> String? {
        try await inTask { () -> String? in
            do {
                _ = try WorkflowExpression(source)
                return nil
            } catch let error as ExpressionSyntaxError {
                return error.message
            }
        }
    }

    @Test func deepExpressionsAreRefusedAtTheLimitNotOverflowed() async throws {
        let limit = WorkflowLimits.maxExpressionDepth
        // Reproductions from the issue: 50,000 unary '!', 100,000 nested parentheses.
        #expect(try await syntaxError(String(repeating: "!", count: 50_000) + "true")?.contains("nests deeper") == true)
        let parens = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        #expect(try await syntaxError(parens)?.contains("bytes long") == true)
        let inLength = String(repeating: "(", count: 30_000) + "1" + String(repeating: ")", count: 30_000)
        #expect(try await syntaxError(inLength)?.contains("nests deeper") == true)
        // A 30,000-term sum fits the length but not the depth (each '+' nests one level).
        #expect(
            try await syntaxError(Array(repeating: "1", count: 30_000).joined(separator: "+"))?.contains("nests deeper")
                == true)
        // At the boundary: exactly the limit parses and evaluates; one more is refused.
        for (make, name) in [
            ({ (n: Int) in String(repeating: "!", count: n) + "true" }, "unary"),
            ({ (n: Int) in String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) }, "parentheses"),
            ({ (n: Int) in Array(repeating: "1", count: n + 1).joined(separator: "+") }, "sum"),
            ({ (n: Int) in String(repeating: "x[", count: n) + "0" + String(repeating: "]", count: n) }, "indexes"),
        ] {
            #expect(try await syntaxError(make(limit)) == nil, "\(name) at the limit")
            #expect(try await syntaxError(make(limit + 1))?.contains("nests deeper") == true, "\(name) past it")
        }
        let sum = try await inTask {
            try evaluate(Array(repeating: "1", count: limit + 1).joined(separator: "+"))
        }
        #expect(sum == .number(Double(limit + 1)))
    }

    @Test func validateReportsDeepExpressionsAndDefinitions() async throws {
        let found = try await inTask {
            problems(
                #"{"assign": {"to": "x", "value": "\#(String(repeating: "(", count: 20_000))1\#(String(repeating: ")", count: 20_000))"}}"#,
                variables: ["x": 0])
        }
        #expect(found.count == 1 && found[0].contains("nests deeper"), "\(found)")
        func nested(_ depth: Int) -> String {
            String(repeating: #"{"sequence": ["#, count: depth - 1) + #"{"writeLine": {"text": "'x'"}}"#
                + String(repeating: "]}", count: depth - 1)
        }
        #expect(problems(nested(WorkflowLimits.maxActivityDepth)).isEmpty)
        let deep = problems(nested(WorkflowLimits.maxActivityDepth + 1))
        #expect(deep.count == 1 && deep[0].contains("activities nest deeper than"), "\(deep)")
        let deepDefault = problems(#"{"writeLine": {"text": "'x'"}}"#, variables: ["v": Self.value(depth: 101)])
        #expect(deepDefault.count == 1 && deepDefault[0].contains("nests arrays and objects 101 levels"))
    }

    /// `[[[…0…]]]`, `depth` levels deep.
    static func value(depth: Int) -> JSONValue {
        var value: JSONValue = 0
        for _ in 0..<depth { value = [value] }
        return value
    }

    /// The issue's 10-line loop: `x.a = x` over and over once crashed the save (100,000 times)
    /// or saved a state no load could read (600 times). Now the assignment that would nest past
    /// the limit faults the instance, and every state it reached saves and loads.
    @Test func aLoopNestingAValueFaultsAtTheLimit() async throws {
        let wf = try definition(
            """
            {"sequence": [{"while": {"condition": "i < 100000", "body": {"sequence": [
              {"assign": {"to": "x.a", "value": "x"}}, {"assign": {"to": "i", "value": "i + 1"}}]}}}]}
            """, variables: ["x": [:], "i": 0])
        let (instance, result) = try await inTask { try start(wf) }
        #expect(result.status == .faulted)
        #expect(instance.state.fault?.message.contains("nests arrays and objects 101 levels deep") == true)
        #expect(instance.state.variables["i"] == 99)
        let decoded = try InstanceState.decode(try instance.state.encoded())
        #expect(decoded == instance.state)
        #expect(
            try WorkflowInstance(definition: wf, instanceID: "i-2", input: ["x": Self.value(depth: 100)]).state.started
                == false)
        #expect(throws: WorkflowError.self) {
            try WorkflowInstance(definition: wf, instanceID: "i-2", input: ["x": Self.value(depth: 101)])
        }
    }

    /// A state is refused on write exactly where it would be refused on read.
    @Test func stateDepthIsCheckedTheSameOnWriteAndRead() throws {
        let wf = try definition(#"{"receive": {"operation": "go"}}"#, variables: ["v": nil])
        var (instance, _) = try start(wf)
        // The state wraps a variable's value in 2 levels ({"variables": {"v": …}}).
        func state(valueDepth: Int) -> InstanceState {
            var state = instance.state
            state.variables["v"] = Self.value(depth: valueDepth)
            return state
        }
        let atLimit = state(valueDepth: WorkflowLimits.maxStateDepth - 2)
        #expect(try InstanceState.decode(try atLimit.encoded()) == atLimit)
        let past = state(valueDepth: WorkflowLimits.maxStateDepth - 1)
        #expect {
            try past.encoded()
        } throws: { error in
            (error as? WorkflowError)?.code == .stateTooLarge
        }
        // The same bytes, written by something else, are refused on read with the same limit.
        var writer = StateWriter()
        try writer.write(past)
        #expect {
            try InstanceState.decode(Data(writer.output.utf8))
        } throws: { error in
            (error as? WorkflowError)?.code == .corruptState
                && "\(error)".contains("nests \(WorkflowLimits.maxStateDepth + 1) levels deep")
        }
        _ = instance.run(now: t0)
    }

    @Test func expressionsCannotBuildUnboundedStrings() throws {
        let big = JSONValue.string(String(repeating: "a", count: WorkflowLimits.maxStringLength / 2 + 1))
        #expect {
            try evaluate("s + s", ["s": big])
        } throws: { error in
            "\(error)".contains("the limit is \(WorkflowLimits.maxStringLength)")
        }
    }

    @Test func anInstanceFaultedFromOutsideKeepsOrDropsItsVariables() throws {
        let wf = try definition(#"{"receive": {"operation": "go"}}"#, variables: ["v": 1])
        var (instance, _) = try start(wf)
        #expect(instance.fault("too large").status == .faulted)
        #expect(instance.state.fault?.message == "too large" && instance.state.variables["v"] == 1)
        #expect(instance.state.bookmarks.isEmpty)
        _ = instance.fault("too large again", keepingVariables: false)
        #expect(instance.state.variables.isEmpty && instance.state.fault?.message == "too large again")
    }

    /// An array whose items share one buffer is small in memory but enormous as text: turning
    /// it into text or writing it in a state stops at the limit instead of exhausting memory.
    @Test func sharedItemsCannotExplodeAsText() throws {
        let item = JSONValue.string(String(repeating: "x", count: 1024))
        let wide = JSONValue.array(Array(repeating: item, count: 150_000))  // 150 MB as text
        for source in ["string(arr)", "'' + arr"] {
            #expect {
                try evaluate(source, ["arr": wide])
            } throws: { error in
                "\(error)".contains("more than \(WorkflowLimits.maxStringLength) bytes as text")
            }
        }
        let wf = try definition(#"{"writeLine": {"text": "arr"}}"#, variables: ["arr": []])
        let (instance, result) = try start(wf, input: ["arr": wide])
        #expect(result.status == .faulted && instance.state.fault?.message.contains("bytes as text") == true)
        var writer = StateWriter(limit: 4 * 1024 * 1024)
        var state = instance.state
        state.variables["arr"] = wide
        #expect(throws: JSONValue.OutputLimitExceeded.self) { try writer.write(state) }
        #expect(writer.output.utf8.count < 5 * 1024 * 1024, "stopped near the limit")
    }

    /// `x.a = x; x.b = x` doubles what `x` holds at each turn while sharing storage: found by
    /// a new user's trial, 60 turns hung `wf run` (the depth check walked every value). The
    /// assignment that would hold more than the limit faults the instance, at once.
    @Test func aValueDoublingBySharingFaultsAtTheValueLimit() async throws {
        let wf = try definition(
            """
            {"sequence": [{"while": {"condition": "i < 60", "body": {"sequence": [
              {"assign": {"to": "x.a", "value": "x"}}, {"assign": {"to": "x.b", "value": "x"}},
              {"assign": {"to": "i", "value": "i + 1"}}]}}}, {"persist": {}}]}
            """, variables: ["x": [:], "i": 0])
        let (instance, result) = try await inTask { try start(wf) }
        #expect(result.status == .faulted)
        #expect(
            instance.state.fault?.message.contains("holds more than \(WorkflowLimits.maxValueNodes) values") == true)
    }
}
