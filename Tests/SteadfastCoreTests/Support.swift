import Foundation
import Testing

@testable import SteadfastCore

let t0 = Instant(iso8601: "2026-01-01T00:00:00Z")!

/// Evaluates an expression against `variables` at `t0`.
func evaluate(_ source: String, _ variables: [String: JSONValue] = [:]) throws -> JSONValue {
    try WorkflowExpression(source).evaluate(in: EvaluationContext(variables: variables, now: t0))
}

/// A definition whose body is `body` (JSON text of one activity).
func definition(
    _ body: String, variables: [String: JSONValue] = [:], keys: [String] = [],
    registry: ActivityRegistry = ActivityRegistry()
) throws -> WorkflowDefinition {
    let document: JSONValue = [
        "name": "test", "version": "1", "variables": .object(variables), "keys": .array(keys.map { .string($0) }),
        "body": try JSONValue.parse(body, what: "the test body"),
    ]
    return try WorkflowDefinition(document: document, registry: registry)
}

/// The problems a definition has, as strings.
func problems(_ body: String, variables: [String: JSONValue] = [:], keys: [String] = []) -> [String] {
    do {
        _ = try definition(body, variables: variables, keys: keys)
        return []
    } catch let error as DefinitionError {
        return error.problems.map(\.description)
    } catch {
        return ["\(error)"]
    }
}

/// Starts an instance of `definition` and runs it at `t0`.
func start(_ definition: WorkflowDefinition, input: [String: JSONValue] = [:]) throws -> (WorkflowInstance, RunResult) {
    var instance = try WorkflowInstance(definition: definition, instanceID: "i-1", input: input)
    instance.tracing = true
    let result = instance.run(now: t0)
    return (instance, result)
}

/// Custom activities used across the tests.
let testRegistry: ActivityRegistry = {
    var registry = ActivityRegistry()
    registry.register("double") { input in
        guard case .number(let value) = input else { throw InvokeError("double needs a number, got \(input.typeName)") }
        return .number(value * 2)
    }
    registry.register("fail") { input in throw InvokeError("failed on \(input.jsonText)") }
    registry.registerAsync("slowDouble") { input in
        guard case .number(let value) = input else { throw InvokeError("slowDouble needs a number") }
        return .number(value * 2)
    }
    return registry
}()
