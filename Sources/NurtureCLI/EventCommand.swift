import ArgumentParser
import Foundation
import NurtureCore
import NurtureEngine

/// `nurture event EMAIL NAME`: a custom event from the rest of the funnel, scored and checked against exit rules.
struct EventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "event",
        abstract: "Record a custom event for a lead (visited_pricing, demo_requested, replied, converted, …).",
        discussion: "Example:\n  nurture event ada@example.com demo_requested"
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "The lead's email address.") var email: String
    @Argument(help: "Event name: a-z, 0-9 and _.") var name: String
    @Option(help: "When it happened (ISO 8601; default: now).") var at: String?
    @Option(help: "A number the event carries: an 'nps' event needs its score (0 to 10), recorded as nps_promoter, nps_passive or nps_detractor.")
    var value: Double?

    func run() async throws {
        if let problem = EventName.problem(name) { throw ValidationError(problem) }
        var name = self.name
        if name == "nps" {
            guard let v = value, let band = EventKind.npsBand(v) else { throw ValidationError("an 'nps' event needs --value from 0 to 10") }
            name = band.name
        }
        let catalog = try options.loadCatalog()
        let address = try options.address(email)
        let when = try at.map { text in
            guard let d = DateText.parse(text, in: TimeZone(identifier: catalog.config.defaultTimeZone) ?? .gmt) else {
                throw ValidationError("--at must be an ISO 8601 date or date-time")
            }
            return d
        } ?? Date()
        let store = try await options.openStore(catalog)
        guard let stored = try await store.lead(address) else {
            Terminal.error("no lead \(address)")
            throw ExitCode(1)
        }
        if let problem = EventName.timeProblem(when, leadCreatedAt: stored.createdAt, now: Date(), tolerance: catalog.config.eventTimeTolerance) {
            throw ValidationError("--at: \(problem)")
        }
        var event = NewEvent(email: address, type: name, at: when)
        event.value = value
        let ends = try await EventRecorder(store: store, catalog: CatalogHolder(catalog)).record(event)
        let lead = try await store.lead(address)!
        print("\(name) recorded for \(address): score \(lead.lead.score), stage \(lead.lead.stage.rawValue.uppercased())")
        for e in ends { print("  ended an enrollment: \(e.reason)") }
    }
}

/// `nurture lead export EMAIL`: everything stored about a lead, as JSON (GDPR access request).
struct LeadExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Print everything stored about a lead, as JSON.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "Email address.") var email: String

    func run() async throws {
        let catalog = try options.loadCatalog()
        let address = try options.address(email)
        guard let document = try await options.openStore(catalog).export(address)?.document else {
            Terminal.error("no lead \(address)")
            throw ExitCode(1)
        }
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: data, as: UTF8.self))
    }
}

/// `nurture lead erase EMAIL`: GDPR erasure; the address stays suppressed as a keyed hash.
struct LeadEraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a lead and everything about it; the address is kept only as a keyed hash so it is never mailed again."
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Email address.") var email: String

    func run() async throws {
        let catalog = try options.loadCatalog()
        let address = try options.address(email)
        let result = try await LeadEraser(store: options.openStore(catalog), transport: catalog.config.transport).erase(address, now: Date())
        if let sends = result.sends {
            print("erased \(address): lead, enrollments, \(sends) sends, events and score ledger deleted, \(result.files) outbox files removed;"
                  + " the address stays suppressed")
        } else {
            print("no lead \(address); the address is now suppressed")
        }
    }
}

/// `nurture rescore`: recompute every score from the event log after a rule change.
struct RescoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rescore",
        abstract: "Recompute every lead's fit and score (fields and events under the current scoring rules), and report what changed."
    )

    @OptionGroup var options: ConfigOption
    @Flag(help: "Report what would change without writing.") var dryRun = false

    func run() async throws {
        let catalog = try options.loadCatalog()
        let changed = try await options.openStore(catalog).rescore(rules: catalog.config.scoring, now: Date(), dryRun: dryRun, chunk: 200)
        for c in changed {
            let stage = c.stageBefore == c.stageAfter ? "" : "  \(c.stageBefore.uppercased()) → \(c.stageAfter.uppercased())"
            let fit = c.fitBefore.map { "  fit \(String(format: "%.2f", $0)) → \(String(format: "%.2f", c.fitAfter ?? $0))" } ?? ""
            print("\(c.email)  \(String(format: "%.2f", c.before)) → \(String(format: "%.2f", c.after))\(stage)\(fit)")
        }
        print("\(changed.count) lead\(changed.count == 1 ? "" : "s") \(dryRun ? "would change" : "changed")")
    }
}
