import ArgumentParser

/// The `nurture` command: every user-facing action is a subcommand here.
public struct NurtureCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "nurture",
        abstract: "Self-hosted lead nurturing: sequences from files, throttled sends, tracking and scoring.",
        discussion: """
            Configuration is read from --config, else $NURTURE_CONFIG, else ./nurture.yaml, \
            else /etc/nurture/nurture.yaml. See nurture.example.yaml for every key.
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, ValidateCommand.self, PreviewCommand.self, SimulateCommand.self, SendTestCommand.self, LeadCommand.self,
                      EventCommand.self, RescoreCommand.self, StatsCommand.self, DKIMCommand.self, DNSCommand.self, DBCommand.self,
                      InboundCommand.self, HandoffCommand.self, PlanCommand.self]
    )

    public init() {}
}

extension NurtureCommand {
    /// Parses the arguments and runs the chosen subcommand, awaiting the asynchronous ones (`serve`).
    public static func start() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
