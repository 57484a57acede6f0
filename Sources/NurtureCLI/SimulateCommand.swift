import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine

/// `nurture simulate`: the timeline the daemon would produce for one lead, on a virtual clock.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Print the exact timeline the daemon would produce for a lead in a sequence.",
        discussion: """
            Runs the daemon's scheduler on a virtual clock with a scratch database and no real delivery.
            Events happen at a delay after a step was sent (clicked(welcome)@2d, opened(welcome)@1h) or after the
            start (converted@10d), or at an ISO 8601 time.

            Example:
              nurture simulate cto-whitepaper --lead-json '{"first_name":"Ada","company":"Analytical","whitepaper_title":"The Playbook","timezone":"Europe/London"}' \\
                --start 2026-11-27T16:00:00Z --event 'clicked(case-study)@1h'
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Sequence id.") var sequence: String
    @Option(help: "The lead as a JSON object of field names to text values.") var leadJSON: String = "{}"
    @Option(help: "Start (ISO 8601 or YYYY-MM-DD; default: now).") var start: String?
    @Option(name: .customLong("event"), help: "An event, e.g. clicked(welcome)@2d or converted@10d (repeatable).") var events: [String] = []
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let catalog = try options.loadCatalog()
        guard let seq = catalog.sequence(sequence) else {
            throw ValidationError("unknown sequence '\(sequence)'; known: \(catalog.sequences.map(\.sequence.id).joined(separator: ", "))")
        }
        let input = try LeadJSON.parse(leadJSON, defaultEmail: "lead@example.com", defaultPersona: seq.persona)
        let rules = LeadRules(declaredFields: Set(catalog.config.fields), personas: nil, defaultTimeZone: catalog.config.defaultTimeZone)
        let lead: Lead
        do { lead = try rules.lead(from: input, now: Date(), requireConsent: false) } catch { throw ValidationError("lead: \(error)") }
        let zoneName = seq.window.zoneName(lead: lead.timeZone, default: catalog.config.defaultTimeZone)
        let zone = TimeZone(identifier: zoneName) ?? .gmt
        let begin = try start.map { text -> Date in
            guard let d = DateText.parse(text, in: zone) else { throw ValidationError("--start must be ISO 8601 or YYYY-MM-DD") }
            return d
        } ?? Date()
        let scripted = try events.map { text -> Simulation.ScriptedEvent in
            let event: Simulation.ScriptedEvent
            do { event = try Simulation.parseEvent(text) } catch { throw ValidationError("\(error)") }
            // An event before the lead enters cannot be a reaction to anything the sequence sent.
            if let at = event.absolute, at < begin {
                throw ValidationError("event '\(PrintableText.escaped(text, limit: 80))' is before --start (\(DateText.iso(begin)))")
            }
            return event
        }
        let lines: [Simulation.Line]
        do {
            lines = try await Simulation.run(catalog: catalog, sequenceID: sequence, lead: lead, start: begin, events: scripted,
                                             openStore: StoreOpener.scratch)
        } catch let problem as Simulation.Problem {
            Terminal.error(problem.description)
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(lines), as: UTF8.self))
            return
        }
        print("\(sequence) for \(lead.email) (persona \(seq.persona), time zone \(zoneName)), from \(Self.format(begin, .gmt)) UTC")
        for line in lines {
            let local = Self.format(line.at, zone)
            var text = "  \(Self.format(line.at, .gmt))  (\(local))  \(line.kind.padding(toLength: 9, withPad: " ", startingAt: 0))"
            if let step = line.step { text += " \(step)" }
            if let subject = line.subject { text += "  “\(subject)”" }
            if !line.detail.isEmpty { text += (line.step == nil ? " " : " — ") + line.detail }
            print(text)
        }
        let sent = lines.filter { $0.kind == "sent" }.count
        print("\(sent) of \(seq.steps.count) steps sent")
    }

    static func format(_ date: Date, _ zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "EEE yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }
}
