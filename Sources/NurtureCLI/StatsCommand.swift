import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine

/// `nurture stats`: per sequence and step, what was sent and what people (and machines) did with it, and how
/// many enrolled leads converted or were handed to sales.
struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Per sequence and step: enrolled, sent, bounced, opens, clicks, unsubscribes, conversions and hand-offs.",
        discussion: "Opens and clicks count people; machine ones (prefetches, scanners) are shown apart. Rates are per message sent."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @OptionGroup var options: ConfigOption
    @Option(help: "Only this sequence.") var sequence: String?
    @Option(help: "Only enrollments and sends since this date (YYYY-MM-DD or ISO 8601).") var since: String?
    @Flag(help: "JSON output (same as --format json).") var json = false
    @Option(help: "table, json or csv (formula characters neutralised for spreadsheets).") var format: Format = .table

    func run() async throws {
        let catalog = try options.loadCatalog()
        let from = try since.map { text in
            guard let d = DateText.parse(text, in: TimeZone(identifier: catalog.config.defaultTimeZone) ?? .gmt) else {
                throw ValidationError("--since must be a date (YYYY-MM-DD) or an ISO 8601 date-time")
            }
            return d
        }
        if let sequence, catalog.sequence(sequence) == nil {
            throw ValidationError("unknown sequence '\(PrintableText.escaped(sequence, limit: 60))'; known: \(catalog.sequences.map(\.sequence.id).joined(separator: ", "))")
        }
        let store = try await options.openStore(catalog)
        var stats = try await store.stats(since: from)
        var handoffs = try await store.handoffStats(now: Date())
        if let sequence {
            stats = stats.filter { $0.sequenceID == sequence }
            handoffs = handoffs.filter { $0.sequenceID == sequence }
        }
        switch json ? .json : format {
        case .json: print(Self.json(stats, handoffs: handoffs))
        case .csv: print(Self.csv(stats), terminator: "")
        case .table:
            let nodes = try await store.clusterNodes()
            print(Self.table(stats) + Self.handoffTable(handoffs) + Self.nodes(nodes, now: Date(), lease: catalog.config.postgres.lease)
                  + Self.totals(try await store.totals()) + Self.inbound(try await store.inboundCounts()), terminator: "")
        }
    }

    static func percent(_ r: Double?) -> String { r.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
    static func duration(_ t: TimeInterval?) -> String {
        guard let t else { return "–" }
        return t >= 86_400 ? String(format: "%.1fd", t / 86_400) : t >= 3_600 ? String(format: "%.1fh", t / 3_600) : String(format: "%.0fm", t / 60)
    }

    static func table(_ stats: [SequenceStats]) -> String {
        var out = ""
        for s in stats {
            let share = { (n: Int) in s.enrolled == 0 ? "–" : percent(Double(n) / Double(s.enrolled)) }
            out += "\(s.sequenceID): \(s.enrolled) enrolled, \(s.converted) converted (\(share(s.converted)), median \(duration(s.medianToConvert))), "
                + "\(s.handedOff) handed to sales (\(share(s.handedOff)), median \(duration(s.medianToHandoff)))\n"
            if s.goalConverted + s.holdoutConverted > 0 || s.heldOut > 0 {
                out += "  goal: \(s.goalConverted) of \(s.enrolled - s.heldOut) mailed converted (\(percent(s.conversionRate)))"
                if s.heldOut > 0 {
                    out += "; holdout \(s.holdoutConverted) of \(s.heldOut) (\(percent(s.holdoutRate)))"
                    if let lift = StatsComparisons.lift(s) { out += ", lift \(lift)" }
                }
                out += "\n"
            }
            func label(_ st: StepStats) -> String { st.variant.map { "\(st.stepID) [\($0)]" } ?? st.stepID }
            let width = max(14, s.steps.map { label($0).count }.max() ?? 0)
            out += "  " + "step".padding(toLength: width + 1, withPad: " ", startingAt: 0) + " sent  bounced  opened        clicked       clicks  unsubscribed  machine opens/clicks"
                + "  soft bounced  complaints  replied       auto-replies  converted\n"
            for st in s.steps {
                func cell(_ n: Int) -> String { "\(n) (\(percent(st.rate(n))))" }
                out += "  " + [label(st).padding(toLength: width, withPad: " ", startingAt: 0), String(st.sent).leftPad(5),
                               cell(st.bounced).leftPad(8), cell(st.uniqueOpens).leftPad(13), cell(st.uniqueClicks).leftPad(13),
                               String(st.clicks).leftPad(7), cell(st.unsubscribes).leftPad(13), "\(st.machineOpens)/\(st.machineClicks)".leftPad(21),
                               cell(st.softBounced).leftPad(13), cell(st.complaints).leftPad(11), cell(st.replies).leftPad(13),
                               String(st.autoReplies).leftPad(12), cell(st.conversions).leftPad(10)]
                    .joined(separator: " ") + "\n"
            }
            out += StatsComparisons.lines(s.steps).map { "  " + $0 + "\n" }.joined()
        }
        return out.isEmpty ? "no enrollments yet\n" : out
    }

    /// The nodes registered on a PostgreSQL database: id, host, version and heartbeat age; none on SQLite.
    static func nodes(_ nodes: [ClusterNode], now: Date, lease: TimeSpan) -> String {
        guard !nodes.isEmpty else { return "" }
        let live = nodes.filter { $0.isAlive(now: now, lease: lease) }.count
        var out = "nodes: \(live) live of \(nodes.count) registered\n"
        out += "  " + ["id".padding(toLength: 40, withPad: " ", startingAt: 0), "host".padding(toLength: 24, withPad: " ", startingAt: 0),
                       "version".padding(toLength: 10, withPad: " ", startingAt: 0), "heartbeat"].joined(separator: " ") + "\n"
        for n in nodes {
            let age = String(format: "%.1fs ago", n.heartbeatAge(now: now)) + (n.isAlive(now: now, lease: lease) ? "" : " (stopped)")
            out += "  " + [PrintableText.escaped(n.id, limit: 40).padding(toLength: 40, withPad: " ", startingAt: 0),
                           PrintableText.escaped(n.hostname, limit: 24).padding(toLength: 24, withPad: " ", startingAt: 0),
                           PrintableText.escaped(n.version, limit: 10).padding(toLength: 10, withPad: " ", startingAt: 0), age].joined(separator: " ") + "\n"
        }
        return out
    }

    /// What came back: `inbound: 12 messages (3 hard_bounce, 1 complaint, 6 reply, 2 quarantined)`; nothing when none.
    static func inbound(_ counts: [InboundOutcome: Int]) -> String {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return "" }
        let parts = InboundOutcome.allCases.compactMap { o in counts[o].flatMap { $0 > 0 ? "\($0) \(o.rawValue)" : nil } }
        return "inbound: \(total) message\(total == 1 ? "" : "s") (\(parts.joined(separator: ", ")))\n"
    }

    /// The table's last line: `leads: 2 stored; suppression list: 3 addresses (1 bounced, 2 unsubscribed)`.
    static func totals(_ t: StoreTotals) -> String {
        let reasons = t.suppressed.keys.sorted().filter { t.suppressed[$0]! > 0 }.map { "\(t.suppressed[$0]!) \($0)" }
        return "leads: \(t.leads) stored; suppression list: \(t.suppressedTotal) address\(t.suppressedTotal == 1 ? "" : "es")"
            + (reasons.isEmpty ? "" : " (" + reasons.joined(separator: ", ") + ")") + "\n"
    }

    static func json(_ stats: [SequenceStats], handoffs: [HandoffStats] = []) -> String {
        let bySequence = Dictionary(handoffs.map { ($0.sequenceID, $0) }, uniquingKeysWith: { a, _ in a })
        let document: [[String: Any]] = stats.map { s in
            var o = s.document
            o["handoffs"] = handoffJSON(bySequence[s.sequenceID] ?? HandoffStats(sequenceID: s.sequenceID))
            return o
        }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Sales' answers for one sequence: counts by outcome, awaiting and overdue, the rates and the mean time to accept.
    static func handoffJSON(_ h: HandoffStats) -> [String: Any] {
        var o: [String: Any] = ["handed_off": h.handedOff, "awaiting": h.awaiting, "overdue": h.overdue,
                                "acceptance_rate": h.acceptanceRate as Any? ?? NSNull(), "win_rate": h.winRate as Any? ?? NSNull(),
                                "mean_seconds_to_accept": h.meanTimeToAccept as Any? ?? NSNull()]
        for outcome in HandoffOutcome.allCases { o[outcome.rawValue] = h.outcomes[outcome] ?? 0 }
        return o
    }

    /// Hand-offs and sales' answers per sequence (the last one that mailed the lead), with a total line; nothing
    /// when no lead was handed off.
    static func handoffTable(_ rows: [HandoffStats]) -> String {
        guard !rows.isEmpty else { return "" }
        func line(_ h: HandoffStats) -> String {
            let cells = [h.sequenceID.padding(toLength: 22, withPad: " ", startingAt: 0), String(h.handedOff).leftPad(7)]
                + HandoffOutcome.allCases.map { String(h.outcomes[$0] ?? 0).leftPad(9) }
                + [String(h.awaiting).leftPad(9), String(h.overdue).leftPad(8), percent(h.acceptanceRate).leftPad(11), percent(h.winRate).leftPad(9),
                   duration(h.meanTimeToAccept).leftPad(15)]
            return "  " + cells.joined(separator: " ") + "\n"
        }
        var out = "hand-offs to sales (by the sequence that last mailed the lead):\n"
        out += "  " + "sequence".padding(toLength: 22, withPad: " ", startingAt: 0) + " " + "handed".leftPad(7) + " "
            + HandoffOutcome.allCases.map { $0.rawValue.leftPad(9) }.joined(separator: " ") + " " + "awaiting".leftPad(9) + " " + "overdue".leftPad(8)
            + " " + "acceptance".leftPad(11) + " " + "win rate".leftPad(9) + " " + "time to accept".leftPad(15) + "\n"
        for r in rows { out += line(r) }
        if rows.count > 1 { out += line(HandoffStats.total(rows)) }
        return out
    }

    static func csv(_ stats: [SequenceStats]) -> String {
        var rows = [["sequence", "step", "enrolled", "sent", "bounced", "unique_opens", "unique_clicks", "clicks", "machine_opens",
                     "machine_clicks", "unsubscribes", "soft_bounced", "complaints", "replies", "auto_replies", "converted", "handed_off",
                     "variant", "conversions"]]
        for s in stats {
            for st in s.steps {
                rows.append([s.sequenceID, st.stepID, "\(s.enrolled)", "\(st.sent)", "\(st.bounced)", "\(st.uniqueOpens)", "\(st.uniqueClicks)",
                             "\(st.clicks)", "\(st.machineOpens)", "\(st.machineClicks)", "\(st.unsubscribes)", "\(st.softBounced)",
                             "\(st.complaints)", "\(st.replies)", "\(st.autoReplies)", "\(s.converted)", "\(s.handedOff)",
                             st.variant ?? "", "\(st.conversions)"])
            }
        }
        return rows.map { $0.map(CSVWriter.cell).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

}

extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
