import Foundation
import FuzzSupport
import SteadfastCore

/// Variables an evaluated expression may read (the names the seed expressions use).
private let variables: [String: JSONValue] = [
    "x": 5, "y": 2.5, "a": [1, 2, 3], "b": [4], "s": "open", "id": 42, "n": 0, "flag": true,
    "o": ["a": [1, 2], "b": ["c": "d"]], "p": ["a": [1, 2]], "nothing": .null,
    "order": ["id": 7, "orderId": "o-7", "items": [["price": 9.5], ["price": 3]], "tags": ["a": "b"]],
    "status": "new", "result": .null, "done": false, "reminders": 0, "maxReminders": 3,
    "legal": ["approved": true], "finance": .null,
]

/// libFuzzer entry point: bytes (as UTF-8, invalid sequences replaced) → `WorkflowExpression`.
///
/// Parsing must give an expression or an `ExpressionSyntaxError`. An expression that parses and
/// reads only known variables is then evaluated the only public way: a one-activity definition
/// assigning it, run by the interpreter (an evaluation error is a fault, not a crash).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let source = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let expression: WorkflowExpression
    do {
        expression = try WorkflowExpression(source)
    } catch {
        if error.column < 1 { fatalError("a syntax error names column \(error.column): \(error)") }
        return 0
    }
    let references = expression.variableReferences
    guard references.allSatisfy({ variables[$0.name] != nil }) else { return 0 }
    let definition: WorkflowDefinition
    do {
        definition = try WorkflowDefinition(
            name: "fuzz-expression", version: "1", variables: variables,
            body: .sequence([
                .assign(to: "result", value: source),
                .if(condition: source, then: .assign(to: "flag", value: "true"), else: .assign(to: "flag", value: "false")),
            ]))
    } catch {
        return 0
    }
    FuzzSupport.exercise(definition)
    return 0
}
