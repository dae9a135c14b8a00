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
            64 usage (a wrong argument or option value). With --json, stdout gets JSON only, errors included as \
            {"error": {"code", "message"}}.
            """,
        version: version,
        subcommands: [
            Validate.self, Run.self, Send.self, ResumeBookmark.self, Serve.self, Instances.self, Show.self,
            History.self, Inbox.self, Rewind.self, Recover.self, Fork.self, Suspend.self, Unsuspend.self,
            Terminate.self, Cancel.self,
            Abandon.self,
            Delete.self,
            Purge.self,
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
            // An ExitCode was reported where it was thrown; a parser's usage error was not.
            if code == ExitStatus.usage, !(error is ExitCode), arguments.contains("--json") {
                var message = self.message(for: error)
                if message.hasPrefix("Error: ") { message.removeFirst("Error: ".count) }
                report(ApplicationError(.invalidInput, message), json: true)
                Foundation.exit(code.rawValue)
            }
            exit(withError: error)
        }
    }
}
