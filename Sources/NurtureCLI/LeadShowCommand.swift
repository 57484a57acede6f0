import ArgumentParser
import Foundation
import NurtureCore

/// `nurture lead show`: everything Nurture knows about a lead, and why.
struct LeadShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a lead: fields, consent, stage, score and its reasons, enrollments and recent events."
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Email address.") var email: String
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let catalog = try options.loadCatalog()
        let address: EmailAddress
        do { address = try EmailAddress(validating: email) } catch { throw ValidationError("\(error)") }
        let store = try await options.openStore(catalog)
        guard let stored = try await store.lead(address) else {
            Terminal.error("no lead \(address)")
            throw ExitCode(1)
        }
        if json {
            print(try LeadReport(stored, defaultTimeZone: catalog.config.defaultTimeZone).json())
        } else {
            print(LeadReport(stored, defaultTimeZone: catalog.config.defaultTimeZone).text())
        }
    }
}

/// The lead as shown to operators, in one shape for both text and JSON output.
struct LeadReport: Encodable {
    struct ConsentReport: Encodable {
        var source: String; var at: String; var text: String?; var ip: String?
        /// A later choice of the recipient's: unsubscribed, left a sequence, paused.
        struct Choice: Encodable { var type: String; var sequence: String?; var at: String; var via: String?; var until: String? }
    }
    struct EnrollmentReport: Encodable {
        var sequence: String; var state: String; var nextStep: String?; var enrolledAt: String; var endedAt: String?; var endReason: String?
        var version: String?
    }
    struct EventReport: Encodable {
        var type: String; var sequence: String?; var step: String?; var machine: Bool; var at: String
        /// The clicked link's index in its message; why it was judged a machine's; a replay stored but not scored.
        var link: Int?; var why: String?; var repeated: Bool
        /// From inbound mail: a bounce's status and diagnostic, a complaint's type, a reply's subject.
        var detail: String?
    }
    /// `kind`: `engagement` or `fit` (then `scoreAfter` is the fit score after the line).
    struct LedgerReport: Encodable { var at: String; var delta: Double; var scoreAfter: Double; var cause: String; var kind: String }
    struct HandoffReport: Encodable {
        var id: Int64; var crossing: Int64?; var channel: String; var status: String; var reminder: Bool; var createdAt: String
        var sequence: String?; var slaDueAt: String?; var outcome: String?; var reason: String?; var answeredAt: String?
    }
    struct SendReport: Encodable {
        var id: Int64; var sequence: String; var step: String; var status: String; var dueAt: String; var sentAt: String?; var attempts: Int
        var reason: String?; var reply: String?
        /// In flight when a daemon stopped (a crash, or a stall abandoned at shutdown) and retried: it may arrive twice.
        var possiblySent: Bool
    }

    var email: String
    var persona: String
    var stage: String
    var score: Double
    var fit: Double
    var fitGrade: String?
    /// Why the address is on the suppression list; absent when it may be mailed.
    var suppressed: String?
    var timezone: String
    var timezoneIsDefault: Bool
    var locale: String?
    var fields: [String: String]
    var consent: ConsentReport
    var recontactAfter: String?
    var createdAt: String
    var updatedAt: String
    var enrollments: [EnrollmentReport]
    var events: [EventReport]
    var ledger: [LedgerReport]
    var sends: [SendReport]
    var handoffs: [HandoffReport]
    var pausedUntil: String?
    var consentHistory: [ConsentReport.Choice]

    init(_ s: StoredLead, defaultTimeZone: String) {
        let iso = DateText.iso
        let lead = s.lead
        email = lead.email.value
        persona = lead.persona
        stage = lead.stage.rawValue
        score = lead.score
        fit = lead.fit
        fitGrade = lead.fitGrade
        suppressed = s.suppression
        timezone = lead.timeZone ?? defaultTimeZone
        timezoneIsDefault = lead.timeZone == nil
        locale = lead.locale
        fields = lead.fields
        consent = ConsentReport(source: lead.consent.source, at: iso(lead.consent.at), text: lead.consent.text, ip: lead.consent.ip)
        pausedUntil = s.pausedUntil.map(iso)
        consentHistory = s.consentHistory.map { ConsentReport.Choice(type: $0.type, sequence: $0.sequenceID, at: iso($0.at), via: $0.via, until: $0.until) }
        recontactAfter = lead.recontactAfter.map(iso)
        createdAt = iso(s.createdAt)
        updatedAt = iso(s.updatedAt)
        enrollments = s.enrollments.map {
            EnrollmentReport(sequence: $0.sequenceID, state: $0.state.rawValue, nextStep: $0.nextStep, enrolledAt: iso($0.enrolledAt),
                             endedAt: $0.endedAt.map(iso), endReason: $0.endReason, version: $0.version.flatMap { $0.isEmpty ? nil : $0 })
        }
        events = s.events.map {
            EventReport(type: $0.type, sequence: $0.sequenceID, step: $0.stepID, machine: $0.machine, at: iso($0.at), link: $0.link,
                        why: $0.machineReason, repeated: $0.isRepeat, detail: $0.detail)
        }
        ledger = s.ledger.map { LedgerReport(at: iso($0.at), delta: $0.delta, scoreAfter: $0.scoreAfter, cause: $0.cause, kind: $0.kind) }
        handoffs = s.handoffs.map {
            HandoffReport(id: $0.id, crossing: $0.crossing, channel: $0.channel, status: $0.status, reminder: $0.reminder, createdAt: iso($0.createdAt),
                          sequence: $0.sequenceID, slaDueAt: $0.slaDueAt.map(iso), outcome: $0.outcome?.rawValue, reason: $0.outcomeReason,
                          answeredAt: $0.answeredAt.map(iso))
        }
        sends = s.sends.map {
            SendReport(id: $0.outboxID, sequence: $0.sequenceID, step: $0.stepID, status: $0.status.rawValue, dueAt: iso($0.dueAt),
                       sentAt: $0.sentAt.map(iso), attempts: $0.attempts, reason: $0.reason, reply: $0.reply, possiblySent: $0.possiblySent)
        }
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    func text() -> String {
        var out = [email]
        func row(_ label: String, _ value: String) { out.append("  " + label.padding(toLength: 14, withPad: " ", startingAt: 0) + value) }
        row("persona", persona)
        row("stage", stage)
        row("score", String(format: "%.1f", score) + " (engagement)")
        row("fit", String(format: "%.1f", fit) + (fitGrade.map { ", grade \($0)" } ?? ""))
        if let suppressed { row("suppressed", suppressed + ": never mailed again") }
        row("time zone", timezone + (timezoneIsDefault ? " (default)" : ""))
        row("locale", locale ?? "(default)")
        row("fields", fields.isEmpty ? "(none)" : fields.keys.sorted().map { "\($0)=\(fields[$0]!)" }.joined(separator: ", "))
        var consentLine = "\(consent.source) at \(consent.at)"
        if let ip = consent.ip { consentLine += " from \(ip)" }
        row("consent", consentLine)
        if let text = consent.text { row("", "\"\(text)\"") }
        for c in consentHistory {
            let what = switch c.type {
            case "sequence_left": "left \(c.sequence ?? "a sequence")"
            case "paused": "paused nurture mail" + (c.until.map { " until \($0)" } ?? "")
            default: "unsubscribed"
            }
            row("", "\(c.at) \(what)" + (c.via.map { " (\($0))" } ?? ""))
        }
        if let pausedUntil { row("paused", "until \(pausedUntil): due nurture steps wait") }
        row("recontact", recontactAfter ?? "(not set)")
        row("created", createdAt)
        row("updated", updatedAt)
        out.append("enrollments:" + (enrollments.isEmpty ? " none" : ""))
        for e in enrollments {
            var line = "  \(e.sequence): \(e.state)"
            if let next = e.nextStep { line += ", next step \(next)" }
            line += ", enrolled \(e.enrolledAt)"
            if let end = e.endedAt { line += ", ended \(end)" + (e.endReason.map { " (\($0))" } ?? "") }
            if let version = e.version { line += ", version \(version)" }
            out.append(line)
        }
        out.append("sends (latest first):" + (sends.isEmpty ? " none" : ""))
        for x in sends {
            var line = "  \(x.sequence)/\(x.step): \(x.status)"
            line += x.sentAt.map { " at \($0)" } ?? " due \(x.dueAt)"
            if let why = x.reason { line += " (\(why))" }
            if x.possiblySent { line += ", possibly delivered twice" }
            out.append(line)
        }
        out.append("hand-offs:" + (handoffs.isEmpty ? " none" : ""))
        for h in handoffs where h.crossing == nil || h.crossing == h.id || h.reminder {
            var line = h.channel == ScoringContext.noChannel
                ? "  #\(h.id) hand-off at \(h.createdAt), recorded (no handoff.webhook or handoff.email to tell it on)"
                : "  #\(h.id) \(h.reminder ? "reminder" : "hand-off") by \(h.channel) at \(h.createdAt): \(h.status)"
            if let sequence = h.sequence, !sequence.isEmpty { line += ", from \(sequence)" }
            if !h.reminder {
                if let outcome = h.outcome {
                    line += "; sales: \(outcome)" + (h.reason.map { " (\($0))" } ?? "") + (h.answeredAt.map { " at \($0)" } ?? "")
                } else if let due = h.slaDueAt {
                    line += "; awaiting sales' answer, due \(due)"
                } else {
                    line += "; awaiting sales' answer"
                }
            }
            out.append(line)
        }
        out.append("score ledger (latest first):" + (ledger.isEmpty ? " none" : ""))
        for l in ledger {
            let tag = l.kind == "fit" ? "fit " : "    "
            out.append("  \(l.at)  \(tag)\(l.delta >= 0 ? "+" : "")\(String(format: "%.1f", l.delta)) → \(String(format: "%.1f", l.scoreAfter))  \(l.cause)")
        }
        out.append("recent events (latest first):" + (events.isEmpty ? " none" : ""))
        for e in events {
            let place = [e.sequence, e.step].compactMap { $0 }.joined(separator: "/")
            let notes = [e.machine ? "machine" + (e.why.map { ": \($0)" } ?? "") : nil, e.repeated ? "repeat" : nil].compactMap { $0 }
            let detail = e.detail.map { "  " + PrintableText.escaped($0, limit: 120) } ?? ""
            out.append("  \(e.at)  \(e.type)\(notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")\(place.isEmpty ? "" : "  \(place)")\(detail)")
        }
        return out.joined(separator: "\n")
    }
}
