import ArgumentParser

/// `nurture lead …`: adding, importing and inspecting leads.
struct LeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lead",
        abstract: "Add, import, inspect, export and erase leads.",
        subcommands: [LeadAddCommand.self, LeadImportCommand.self, LeadShowCommand.self, LeadExportCommand.self, LeadEraseCommand.self]
    )
}
