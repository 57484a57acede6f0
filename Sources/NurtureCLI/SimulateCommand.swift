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
    @Option(help: "A CSV of leads (a header row of field names: email, timezone, first_name…; an optional 'events' column of space-separated events): each is simulated and the distribution of their paths printed.")
    var leads: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let catalog = try options.loadCatalog()
        guard let seq = catalog.sequence(sequence) else {
            throw ValidationError("unknown sequence '\(sequence)'; known: \(catalog.sequences.map(\.sequence.id).joined(separator: ", "))")
        }
        let rules = LeadRules(declaredFields: Set(catalog.config.fields), personas: nil, defaultTimeZone: catalog.config.defaultTimeZone)
        if let leads { return try await many(leads, catalog: catalog, sequence: seq, rules: rules) }
        let input = try LeadJSON.parse(leadJSON, defaultEmail: "lead@example.com", defaultPersona: seq.persona)
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
        // Waits and branches send nothing: the count is of mail steps (a re-entered run counts again).
        print("\(sent) sent; the sequence has \(seq.steps.filter(\.flow.isMail).count) mail steps")
    }

    /// `--leads FILE.csv`: every row simulated like `--lead-json`, then how many leads took each path.
    func many(_ path: String, catalog: Catalog, sequence seq: NurtureSequence, rules: LeadRules) async throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        var reader = CSVReader(data: data)
        var header: [String] = []
        var paths: [String: Int] = [:], order: [String] = [], refused: [String] = []
        var results: [[String: Any]] = []
        let begin = try start.map { text -> Date in
            guard let d = DateText.parse(text, in: TimeZone(identifier: catalog.config.defaultTimeZone) ?? .gmt) else {
                throw ValidationError("--start must be ISO 8601 or YYYY-MM-DD")
            }
            return d
        } ?? Date()
        var row = 0
        while let next = reader.next() {
            guard case .success(let record) = next else {
                refused.append("\(path): a row could not be read: \(next)")
                continue
            }
            if header.isEmpty { header = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }; continue }
            row += 1
            var values = Dictionary(zip(header, record.fields), uniquingKeysWith: { a, _ in a })
            let scripted = try (values.removeValue(forKey: "events") ?? "").split(separator: " ").map { try Simulation.parseEvent(String($0)) }
                + events.map { try Simulation.parseEvent($0) }
            let input = LeadJSON.input(values.filter { !$0.value.isEmpty }, defaultEmail: "lead\(row)@example.com", defaultPersona: seq.persona)
            do {
                let lead = try rules.lead(from: input, now: begin, requireConsent: false)
                let lines = try await Simulation.run(catalog: catalog, sequenceID: sequence, lead: lead, start: begin, events: scripted,
                                                     openStore: StoreOpener.scratch)
                let p = Simulation.path(lines)
                if paths[p] == nil { order.append(p) }
                paths[p, default: 0] += 1
                results.append(["lead": lead.email.value, "path": p, "line": record.line])
            } catch {
                refused.append("\(path):\(record.line): \(error)")
            }
        }
        if json {
            let document: [String: Any] = ["leads": results, "paths": order.map { ["path": $0, "leads": paths[$0]!] }, "refused": refused]
            print(String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            let total = paths.values.reduce(0, +)
            print("\(sequence): \(total) leads from \(path), from \(Self.format(begin, .gmt)) UTC")
            for p in order.sorted(by: { (paths[$1]!, $0) < (paths[$0]!, $1) }) {
                print("  " + String(paths[p]!).leftPad(5) + "  " + String(format: "%5.1f%%", Double(paths[p]!) * 100 / Double(max(1, total))) + "  " + p)
            }
        }
        for r in refused { Terminal.error(r) }
        if !refused.isEmpty { throw ExitCode(1) }
    }

    static func format(_ date: Date, _ zone: TimeZone) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = zone
        f.dateFormat = "EEE yyyy-MM-dd HH:mm"
        return f.string(from: date)
    }
}
