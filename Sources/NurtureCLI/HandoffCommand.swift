import ArgumentParser
import Foundation
import NurtureCore
import NurtureEngine

/// `nurture handoff`: what sales did with the leads handed to it.
struct HandoffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handoff",
        abstract: "Record sales' answer about a hand-off.",
        subcommands: [HandoffSetCommand.self]
    )
}

/// `nurture handoff set ID OUTCOME`: the CRM's answer by hand, exactly as `POST /api/v1/handoffs/{id}` records it.
struct HandoffSetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Record the outcome of a hand-off: accepted, rejected, recycled, won or lost.",
        discussion: """
            ID is the hand-off's delivery id (the webhook's X-Nurture-Delivery header, `nurture lead show`), or a lead's
            address for its latest hand-off. What each outcome does to the lead is configured in handoff.outcomes.
            Recording the same outcome twice changes nothing.
            Examples:
              nurture handoff set 42 rejected --reason "no budget"
              nurture handoff set ada@example.com won
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The hand-off's id, or the lead's address (its latest hand-off).") var id: String
    @Argument(help: "accepted, rejected, recycled, won or lost.") var outcome: String
    @Option(help: "Why (rejected: not a fit, no budget, duplicate…).") var reason: String?

    func run() async throws {
        let catalog = try options.loadCatalog()
        let store = try await options.openStore(catalog)
        var id = self.id
        if id.contains("@") {
            let address = try options.address(id)
            guard let crossing = try await store.lead(address)?.handoffs.last(where: { $0.crossing == $0.id })?.id else {
                Terminal.error("no hand-off of \(address)")
                throw ExitCode(1)
            }
            id = String(crossing)
        }
        let r: HandoffAnswerResult
        do {
            r = try await HandoffAnswerRecorder(store: store, catalog: CatalogHolder(catalog)).answer(id: id, outcome: outcome, reason: reason, at: Date())
        } catch let failure as HandoffAnswerRecorder.Failure {
            Terminal.error(failure.description)
            if case .unknownHandoff = failure { throw ExitCode(1) }
            throw ExitCode.validationFailure
        }
        if r.changed {
            print("hand-off \(r.crossing): \(r.previous.map { "\($0.rawValue) → " } ?? "")\(r.outcome.rawValue); lead at stage \(r.stage.rawValue.uppercased()), score \(r.score)")
        } else {
            print("hand-off \(r.crossing) was already \(r.outcome.rawValue): nothing changed")
        }
    }
}
