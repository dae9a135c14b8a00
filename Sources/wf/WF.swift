import ArgumentParser

@main
struct WF: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wf",
        abstract: "Steadfast: run, host and inspect long-running workflows.",
        subcommands: [
            Validate.self, Instances.self, Show.self, Suspend.self, Unsuspend.self, Terminate.self, Cancel.self,
            Purge.self, Run.self, Send.self, ResumeBookmark.self, Serve.self,
        ]
    )
}
