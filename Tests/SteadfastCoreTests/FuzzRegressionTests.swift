import Foundation
import Testing

@testable import SteadfastCore

/// Every input a fuzz target ever crashed on (`Fuzz/Regressions/TARGET/`) goes through the same
/// entry point here, in a task as on a host: each must give a result or an error, never a crash.
@Suite struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Regressions")

    static func inputs(_ target: String) -> [URL] {
        let folder = root.appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map {
            folder.appendingPathComponent($0)
        }
    }

    @Test func expressionRegressions() async throws {
        let files = Self.inputs("fuzz-expression")
        #expect(!files.isEmpty, "no regressions found under \(Self.root.path)")
        for file in files {
            let source = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            try await Task {
                if let expression = try? WorkflowExpression(source) {
                    _ = try? expression.evaluate(in: EvaluationContext(variables: [:], now: t0))
                }
            }.value
        }
    }

    @Test func definitionRegressions() async throws {
        for file in Self.inputs("fuzz-definition") {
            let data = try Data(contentsOf: file)
            try await Task { _ = try? WorkflowDefinition(json: data, checkInvokes: false) }.value
        }
    }

    @Test func stateRegressions() async throws {
        for file in Self.inputs("fuzz-state") {
            let data = try Data(contentsOf: file)
            try await Task { _ = try? InstanceState.decode(data) }.value
        }
    }
}
