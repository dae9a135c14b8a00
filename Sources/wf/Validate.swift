import ArgumentParser
import Foundation
import SteadfastCore

/// `wf validate FILE…`: checks workflow definitions and reports every problem.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check workflow definitions; print each problem with its file, activity path and column.",
        discussion: "Exits 0 when every file is valid, 1 when any has a problem."
    )

    @Argument(help: "Definition files (JSON).")
    var files: [String]

    func run() throws {
        var failed = false
        for file in files {
            let problems = Self.problems(inFile: file)
            if problems.isEmpty {
                print("\(file): ok")
            } else {
                failed = true
                for problem in problems { printError("\(file): \(problem)") }
            }
        }
        if failed { throw ExitCode(1) }
    }

    static func problems(inFile file: String) -> [String] {
        guard let data = FileManager.default.contents(atPath: file) else {
            return ["cannot read the file: check the path and its permissions"]
        }
        do {
            // Custom activities are registered by the host that runs the definition, so
            // `invoke` names cannot be checked here.
            _ = try WorkflowDefinition(json: data, checkInvokes: false)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }
}
