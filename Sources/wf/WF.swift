import ArgumentParser
import Foundation
import SteadfastApplication

@main
struct WF: AsyncParsableCommand {
    static let version = "0.3.0"

    static let configuration = CommandConfiguration(
        commandName: "wf",
        abstract: "Steadfast: run, host and inspect long-running workflows.",
        discussion: """
            Exit codes: 0 done; 1 error; 2 the instance faulted or was terminated (run, send, resume-bookmark); \
            64 usage (a wrong argument or option). With --json, stdout gets JSON only, errors included as \
            {"error": {"code", "message"}}.
            """,
        version: version,
        subcommands: [
            Validate.self, Run.self, Send.self, ResumeBookmark.self, Serve.self, Instances.self, Show.self,
            History.self, Suspend.self, Unsuspend.self, Terminate.self, Cancel.self, Delete.self, Purge.self,
            CompletionAction.self,
        ]
    )

    /// Parses and runs the command; a usage error is reported like every other error (as JSON with
    /// `--json`) and exits 64.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == ExitStatus.usage, arguments.contains("--json") {
                report(ApplicationError(.invalidInput, fullMessage(for: error)), json: true)
                Foundation.exit(code.rawValue)
            }
            exit(withError: error)
        }
    }
}
