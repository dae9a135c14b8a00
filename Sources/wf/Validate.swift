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

    @OptionGroup var output: OutputOptions

    /// One file's result, as `--json` prints it.
    struct FileResult: Encodable {
        var file: String
        var valid: Bool
        var problems: [String]
    }

    func run() throws {
        let results = files.map { file in
            let problems = Self.problems(inFile: file)
            return FileResult(file: file, valid: problems.isEmpty, problems: problems)
        }
        if output.json {
            try printJSON(results)
        } else {
            for result in results {
                if result.valid { print("\(result.file): ok") }
                for problem in result.problems { printError("\(result.file): \(problem)") }
            }
        }
        if results.contains(where: { !$0.valid }) { throw ExitCode(1) }
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
