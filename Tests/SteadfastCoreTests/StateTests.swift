import Foundation
import Testing

@testable import SteadfastCore

@Suite struct StateTests {
    func waitingInstance() throws -> WorkflowInstance {
        let wf = try definition(
            """
            {"sequence": [{"receive": {"operation": "submit", "correlateOn": "id", "createsInstance": true, "assignTo": "m"}},
              {"parallel": [{"delay": {"duration": "PT1M"}}, {"receive": {"operation": "approve", "correlateOn": "id"}}]},
              {"writeLine": {"text": "'done ' + id"}}]}
            """, variables: ["id": nil, "m": nil], keys: ["id"])
        var (instance, _) = try start(wf)
        _ = try instance.resume(operation: "submit", message: ["id": "A-1"], now: t0)
        return instance
    }

    @Test func stateHoldsEverythingThatSurvivesARestart() throws {
        let state = try waitingInstance().state
        #expect(state.definition.name == "test" && state.definition.version == "1")
        #expect(state.status == .idle)
        #expect(state.variables["m"] == ["id": "A-1"])
        #expect(state.keys == ["id": "A-1"])
        #expect(state.bookmarks.map(\.operation) == ["approve"])
        #expect(
            state.timers == [
                PendingTimer(due: t0.adding(milliseconds: 60_000), activityPath: "body.sequence[1].parallel[0].delay")
            ])
        #expect(state.execution != nil)
    }

    @Test func encodeDecodeContinue() throws {
        let original = try waitingInstance()
        let data = try original.state.encoded()
        #expect(try data == original.state.encoded(), "encoding is deterministic")
        var restored = try WorkflowInstance(definition: original.definition, encodedState: data)
        #expect(restored.state == original.state)
        _ = restored.resumeDueTimers(now: t0.adding(milliseconds: 60_000))
        let result = try restored.resume(operation: "approve", message: ["id": "A-1"], now: t0)
        #expect(result.status == .completed)
        #expect(result.lines == ["done A-1"])
    }

    @Test func anotherDefinitionIdentityIsRefusedNamingBoth() throws {
        let instance = try waitingInstance()
        let other = try WorkflowDefinition(name: "other", version: "7") { WriteLine("'x'") }
        do {
            _ = try WorkflowInstance(definition: other, state: instance.state)
            Issue.record("loaded under another definition")
        } catch {
            #expect(error.code == .definitionMismatch)
            #expect(error.message.contains("'test' version '1'"))
            #expect(error.message.contains("'other' version '7'"))
        }
        // Same name and version, different content: refused too, with what to do.
        let edited = try definition(
            #"{"writeLine": {"text": "'edited'"}}"#, variables: ["id": nil, "m": nil], keys: ["id"])
        #expect(throws: WorkflowError.self) { try WorkflowInstance(definition: edited, state: instance.state) }
    }

    @Test func truncatedAndCorruptStatesFailClearly() throws {
        let instance = try waitingInstance()
        let data = try instance.state.encoded()
        for length in stride(from: 0, to: data.count, by: max(1, data.count / 97)) {
            do {
                _ = try WorkflowInstance(definition: instance.definition, encodedState: data.prefix(length))
                Issue.record("a state truncated to \(length) bytes loaded")
            } catch {
                #expect(error.code == .corruptState)
            }
        }
        var garbage = data
        for index in stride(from: 7, to: garbage.count, by: 13) { garbage[index] ^= 0x5A }
        #expect(throws: WorkflowError.self) {
            try WorkflowInstance(definition: instance.definition, encodedState: garbage)
        }
    }

    @Test func frameTreeThatDoesNotFitIsRejected() throws {
        let instance = try waitingInstance()
        var state = instance.state
        state.execution = .sequence(index: 9, child: .persist(acknowledged: false))
        do {
            _ = try WorkflowInstance(definition: instance.definition, state: state)
            Issue.record("an impossible position loaded")
        } catch {
            #expect(error.code == .corruptState)
            #expect(error.message.contains("step 9 of 3"))
        }
        state.execution = .sequence(index: 1, child: .receive(message: nil))
        #expect(throws: WorkflowError.self) { try WorkflowInstance(definition: instance.definition, state: state) }
        state = instance.state
        state.bookmarks = []
        #expect(throws: WorkflowError.self) { try WorkflowInstance(definition: instance.definition, state: state) }
    }

    @Test func unknownFormatIsNamed() throws {
        var state = try waitingInstance().state
        state.format = 99
        do {
            _ = try InstanceState.decode(state.encoded())
            Issue.record("format 99 decoded")
        } catch {
            #expect(error.code == .unsupportedStateFormat)
            #expect(error.message.contains("format 99"))
        }
    }

    @Test func finishedInstancesKeepStatusAndFault() throws {
        let wf = try definition(#"{"throw": {"message": "'bad'"}}"#)
        let (instance, _) = try start(wf)
        let decoded = try InstanceState.decode(instance.state.encoded())
        #expect(decoded.status == .faulted)
        #expect(decoded.fault == WorkflowFault(message: "bad", activityPath: "body.throw"))
        #expect(decoded.execution == nil)
    }
}

@Suite struct StateEncodingTests {
    /// The hand-written encoder gives what Foundation's decoder reads back as the same state, for
    /// every kind of frame the random workflows reach.
    @Test func encodedStatesDecodeToTheSameState() throws {
        var checked = 0
        for seed in UInt64(1)...200 {
            var generator = WorkflowGenerator(seed: seed)
            let definition = try generator.definition()
            var instance = try WorkflowInstance(definition: definition, instanceID: "enc-\(seed)")
            var result = instance.run(now: t0)
            var random = SeededRandom(seed: seed)
            for _ in 0..<50 where !result.status.isFinal {
                let state = instance.state
                #expect(try InstanceState.decode(state.encoded()) == state, "seed \(seed)")
                checked += 1
                if let call = result.asyncCalls.first {
                    result = try instance.completeAsync(call: call.call, outcome: .success(.number(1)), now: t0)
                } else if state.persistPending {
                    result = instance.acknowledgePersist(now: t0)
                } else if let bookmark = state.bookmarks.first, random.chance(50) || state.timers.isEmpty {
                    result = try instance.resume(
                        operation: bookmark.operation, message: ["n": 1, "s": "é\"/\n"], now: t0)
                } else if let timer = state.timers.first {
                    result = instance.resumeDueTimers(now: timer.due)
                } else {
                    break
                }
            }
        }
        #expect(checked > 500)
    }
}
