import Foundation
import Testing

@testable import SteadfastCore

/// An instance going on from a saved state: as itself, as a fork, or under another version.
@Suite struct ContinuingTests {
    /// Version `version` of one workflow: a Delay, a Receive for `operation`, then `rest`.
    func version(
        _ version: String, operation: String = "approve", rest: String = #"{"writeLine": {"text": "'done'"}}"#,
        variables: [String: JSONValue] = ["n": 1]
    ) throws -> WorkflowDefinition {
        let document: JSONValue = [
            "name": "flow", "version": .string(version), "variables": .object(variables),
            "body": try JSONValue.parse(
                #"{"sequence": [{"delay": {"duration": "PT1H"}}, {"receive": {"operation": "\#(operation)"}}, \#(rest)]}"#,
                what: "the body"),
        ]
        return try WorkflowDefinition(document: document)
    }

    /// v1 run past its Delay, waiting for `approve`.
    func waiting() throws -> (WorkflowDefinition, InstanceState) {
        let v1 = try version("1")
        var instance = try WorkflowInstance(definition: v1, instanceID: "i-1")
        _ = instance.run(now: t0)
        _ = instance.resumeDueTimers(now: t0.adding(.seconds(3600)))
        #expect(instance.state.bookmarks.map(\.operation) == ["approve"])
        return (v1, instance.state)
    }

    @Test func itselfAndAFork() throws {
        let (v1, state) = try waiting()
        #expect(try WorkflowInstance(continuing: state, of: v1).state == state)
        let fork = try WorkflowInstance(continuing: state, of: v1, as: "i-2", setting: ["n": 5])
        #expect(fork.state.instanceID == "i-2" && fork.state.variables["n"] == 5)
        #expect(fork.state.bookmarks == state.bookmarks)
        #expect(throws: WorkflowError.self) { try WorkflowInstance(continuing: state, of: v1, setting: ["m": 1]) }
    }

    /// What lies ahead may differ; a variable the new version adds starts at its default; the
    /// moved instance runs the new version's steps.
    @Test func ontoACompatibleVersion() throws {
        let (v1, state) = try waiting()
        let v2 = try version(
            "2", rest: #"{"assign": {"to": "m", "value": "n + 1"}}"#, variables: ["n": 1, "m": 0])
        var moved = try WorkflowInstance(continuing: state, of: v1, under: v2)
        #expect(moved.state.definition == v2.identity && moved.state.variables == ["n": 1, "m": 0])
        let result = try moved.resume(operation: "approve", message: [:], now: t0)
        #expect(result.status == .completed && moved.state.variables["m"] == 2)
    }

    /// Each refusal names the first difference.
    @Test func incompatibleVersionsAreRefused() throws {
        let (v1, state) = try waiting()
        func refusal(_ target: WorkflowDefinition) -> String {
            do {
                _ = try WorkflowInstance(continuing: state, of: v1, under: target)
                return "accepted"
            } catch {
                #expect(error.code == .incompatibleDefinition)
                return error.message
            }
        }
        #expect(refusal(try version("2", operation: "approval")).contains("waits for 'approve'"))
        #expect(refusal(try version("2", variables: [:])).contains("the variable 'n'"))
        // The Receive at step 1 is a Delay in version 2.
        let swapped = try WorkflowDefinition(
            document: [
                "name": "flow", "version": "2", "variables": ["n": 1],
                "body": try JSONValue.parse(
                    #"{"sequence": [{"receive": {"operation": "approve"}}, {"delay": {"duration": "PT1H"}}]}"#,
                    what: "the body"),
            ])
        let message = refusal(swapped)
        #expect(message.contains("body.sequence[1]") && message.contains("receive"), "\(message)")
        // A correlation key the instance would gain.
        let keyed = try WorkflowDefinition(
            document: [
                "name": "flow", "version": "2", "variables": ["n": 1], "keys": ["n"],
                "body": try JSONValue.parse(
                    #"{"sequence": [{"delay": {"duration": "PT1H"}}, {"receive": {"operation": "approve"}}]}"#,
                    what: "the body"),
            ])
        #expect(refusal(keyed).contains("correlated on"))
        let other = try WorkflowDefinition(
            document: ["name": "other", "version": "1", "variables": ["n": 1], "body": ["persist": [:]]])
        #expect(refusal(other).contains("another workflow"))
    }
}

extension ContinuingTests {
    /// A pick whose winner is now another branch's trigger: the choice made is named.
    @Test func aChoiceMadeAlreadyMustMeanTheSame() throws {
        func pick(_ version: String, _ first: String, _ second: String) throws -> WorkflowDefinition {
            try WorkflowDefinition(
                document: [
                    "name": "choice", "version": .string(version),
                    "body": try JSONValue.parse(
                        #"{"pick": [{"trigger": {"receive": {"operation": "\#(first)"}}, "action": {"delay": {"duration": "PT1H"}}}, {"trigger": {"receive": {"operation": "\#(second)"}}, "action": {"delay": {"duration": "PT1H"}}}]}"#,
                        what: "the body"),
                ])
        }
        let v1 = try pick("1", "approve", "reject")
        var instance = try WorkflowInstance(definition: v1, instanceID: "i-1")
        _ = instance.run(now: t0)
        _ = try instance.resume(operation: "approve", message: [:], now: t0)
        #expect(
            try WorkflowInstance(continuing: instance.state, of: v1, under: try pick("2", "approve", "deny"))
                .state.timers.count == 1)
        let swapped = try pick("3", "reject", "approve")
        do {
            _ = try WorkflowInstance(continuing: instance.state, of: v1, under: swapped)
            Issue.record("the other branch's action took over")
        } catch {
            #expect(error.code == .incompatibleDefinition && error.message.contains("branch 0"), "\(error)")
        }
    }
}

@Suite struct UUIDTextTests {
    @Test func theTextIsFoundationsInEitherCase() {
        for _ in 0..<1000 {
            let id = UUID()
            #expect(id.uppercasedText == id.uuidString)
            #expect(id.lowercasedText == id.uuidString.lowercased())
        }
    }
}
