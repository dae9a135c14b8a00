import Testing

@testable import SteadfastCore

@Suite struct PropertyTests {
    /// 1,000 random workflows nesting every activity kind, each run twice: straight through,
    /// and interrupted at every idle point by serializing, decoding and continuing in a fresh
    /// interpreter. Both runs must end in the same state, outputs and trace.
    @Test func interruptedRunsEndExactlyLikeStraightRuns() throws {
        var kindsSeen: [String: Int] = [:]
        var statuses: [InstanceStatus: Int] = [:]
        var totalReloads = 0
        for seed in UInt64(1)...1000 {
            var generator = WorkflowGenerator(seed: seed)
            let definition = try generator.definition()
            definition.body.visit { kindsSeen[$0.kind, default: 0] += 1 }
            let reloadDefinition = try WorkflowDefinition(document: definition.jsonValue, registry: testRegistry)
            let driver = WorkflowDriver(definition: definition, reloadDefinition: reloadDefinition)
            let straight = try driver.run(seed: seed &* 7919, interrupt: false)
            let interrupted = try driver.run(seed: seed &* 7919, interrupt: true)
            #expect(straight.state == interrupted.state, "seed \(seed): final states differ")
            #expect(try straight.state.encoded() == interrupted.state.encoded(), "seed \(seed): encoded states differ")
            #expect(straight.lines == interrupted.lines, "seed \(seed): outputs differ")
            #expect(straight.trace == interrupted.trace, "seed \(seed): traces differ")
            #expect(straight.events == interrupted.events, "seed \(seed)")
            #expect(straight.state.status.isFinal, "seed \(seed) did not finish in \(straight.events) events")
            statuses[straight.state.status, default: 0] += 1
            totalReloads += interrupted.reloads
        }
        for kind in [
            "sequence", "parallel", "assign", "if", "while", "delay", "persist", "receive", "pick", "writeLine",
            "invoke", "terminate", "throw", "tryCatch", "noPersist",
        ] {
            #expect(
                kindsSeen[kind, default: 0] >= 20,
                "activity kind \(kind) appears only \(kindsSeen[kind, default: 0]) times")
        }
        #expect(statuses[.completed, default: 0] >= 300, "\(statuses)")
        #expect(statuses[.faulted, default: 0] >= 20, "\(statuses)")
        #expect(statuses[.terminated, default: 0] >= 5, "\(statuses)")
        #expect(totalReloads >= 3000, "only \(totalReloads) interruptions")
    }
}
