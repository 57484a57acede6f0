import Foundation
import NurtureCore
import Yams

/// Reads `handoff:`: where sales is told, what each of its answers does, and how long it has to answer.
enum HandoffSettingsLoader {
    static let keys = ["webhook", "email", "outcomes", "sla", "time_zone", "workdays", "holidays", "renotify"]
    static let outcomeKeys = ["stage", "enroll", "after", "score", "stop_nurturing"]
    /// Keys that only mean something with an `sla:`.
    static let slaKeys = ["time_zone", "workdays", "holidays", "renotify"]

    /// Needs `config.defaultTimeZone` read already (the SLA's zone defaults to it).
    static func read(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let m = r.mapping(node, "'handoff'", allowed: keys) else { return }
        if let n = m["webhook"]?.value, let url = r.singleLine(n, "'handoff.webhook'") {
            if let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil, parsed.user == nil {
                config.handoff.webhook = url
            } else {
                r.error(n, "'handoff.webhook' must be an http(s) URL without credentials, e.g. https://crm.example.com/hooks/nurture")
            }
        }
        if let n = m["email"]?.value, let email = r.singleLine(n, "'handoff.email'") {
            if (try? EmailAddress(validating: email)) != nil { config.handoff.email = email } else { r.error(n, "'handoff.email' is not a valid address") }
        }
        if let n = m["outcomes"]?.value { readOutcomes(n, into: &config, reader: r) }
        guard let slaNode = m["sla"]?.value else {
            for key in slaKeys { if let (k, _) = m[key] { r.error(k, "'handoff.\(key)' applies only with 'handoff.sla'") } }
            return
        }
        guard let span = span(slaNode, reader: r) else { return }
        var sla = HandoffSLA(span: span, timeZone: config.defaultTimeZone)
        if let n = m["time_zone"]?.value, let zone = r.timeZone(n, "'handoff.time_zone'") { sla.timeZone = zone }
        if let n = m["workdays"]?.value, let days = workdays(n, reader: r) { sla.workdays = days }
        if let n = m["holidays"]?.value, let items = r.list(n, "'handoff.holidays'") {
            sla.holidays = Set(items.compactMap { holiday($0, reader: r) })
        }
        if let n = m["renotify"]?.value, let items = r.list(n, "'handoff.renotify'", scalarIsList: true) {
            config.handoff.renotify = renotify(items, n, channels: config.handoff.channels, reader: r)
        }
        config.handoff.sla = sla
    }

    static func readOutcomes(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let entries = r.freeMapping(node, "'handoff.outcomes'") else { return }
        let names = HandoffOutcome.allCases.map(\.rawValue).joined(separator: ", ")
        for (name, keyNode, value) in entries {
            guard let outcome = HandoffOutcome(rawValue: name) else {
                r.error(keyNode, "unknown outcome '\(name)' in 'handoff.outcomes'; expected one of: \(names)")
                continue
            }
            let what = "'handoff.outcomes.\(name)'"
            guard let o = r.mapping(value, what, allowed: outcomeKeys) else { continue }
            var rule = HandoffOutcomeRule.defaults(for: outcome)
            if let n = o["stage"]?.value, let s = stage(n, "\(what) stage", reader: r) { rule.stage = s }
            if let n = o["enroll"]?.value, let id = r.singleLine(n, "\(what) enroll") {
                if Identifier.isStepID(id) {
                    rule.enroll = id
                    config.positions.outcomeEnrolls[outcome] = r.position(n)
                } else {
                    r.error(n, "\(what) enroll: sequence id '\(id)' must be lowercase letters, digits and dashes")
                }
            }
            if let n = o["after"]?.value, let v = r.timeSpan(n, "\(what) after") { rule.after = v }
            if let n = o["score"]?.value, let v = r.singleLine(n, "\(what) score") {
                switch v {
                case "reset": rule.resetScore = true
                case "keep": rule.resetScore = false
                default: r.error(n, "\(what) score must be 'reset' or 'keep', not '\(v)'")
                }
            }
            if let n = o["stop_nurturing"]?.value, let v = r.bool(n, "\(what) stop_nurturing") { rule.stopNurturing = v }
            if o["after"] != nil, rule.enroll == nil, let (k, _) = o["after"] {
                r.warning(k, "\(what) 'after' has no effect without 'enroll'")
            }
            config.handoff.outcomes[outcome] = rule
        }
    }

    /// A lifecycle stage name; an unknown one is reported with the valid names.
    static func stage(_ node: Node, _ what: String, reader r: NodeReader) -> LifecycleStage? {
        guard let name = r.singleLine(node, what) else { return nil }
        guard let stage = LifecycleStage(rawValue: name) else {
            r.error(node, "unknown stage '\(name)' for \(what); expected one of: \(LifecycleStage.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return stage
    }

    /// `N business day(s)` or a duration (`48h`).
    static func span(_ node: Node, reader r: NodeReader) -> HandoffSLA.Span? {
        guard let text = r.singleLine(node, "'handoff.sla'") else { return nil }
        let words = text.split(separator: " ")
        if words.count == 3, words[1] == "business", ["day", "days"].contains(words[2]) {
            guard let n = Int(words[0]), (1...BusinessCalendar.maximumDays).contains(n) else {
                r.error(node, "'handoff.sla' counts 1 to \(BusinessCalendar.maximumDays) business days, not '\(words[0])'")
                return nil
            }
            return .businessDays(n)
        }
        guard !text.contains(" ") else {
            r.error(node, "'handoff.sla' must read like '2 business days' or a duration such as 48h")
            return nil
        }
        guard let v = r.timeSpan(node, "'handoff.sla'") else { return nil }
        guard v.seconds > 0 else {
            r.error(node, "'handoff.sla' must be longer than zero")
            return nil
        }
        return .elapsed(v)
    }

    /// Day names as send windows write them (`mon` … `sun`).
    static func workdays(_ node: Node, reader r: NodeReader) -> Set<Weekday>? {
        guard let items = r.list(node, "'handoff.workdays'") else { return nil }
        let days = r.days(items) { "unknown day '\($0)' in 'handoff.workdays'; use mon, tue, wed, thu, fri, sat, sun" }
        if items.isEmpty {
            r.error(node, "'handoff.workdays' is empty, so no business day would ever pass")
            return nil
        }
        return days
    }

    /// A `YYYY-MM-DD` date that exists on the calendar.
    static func holiday(_ node: Node, reader r: NodeReader) -> String? {
        guard let text = r.singleLine(node, "a holiday") else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
           parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
           let y = Int(parts[0]), let mo = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(mo), (1...31).contains(d) {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let parsed = DateComponents(calendar: calendar, year: y, month: mo, day: d)
            if let date = parsed.date, calendar.component(.day, from: date) == d, calendar.component(.month, from: date) == mo {
                return text
            }
        }
        r.error(node, "holiday '\(PrintableText.escaped(text, limit: 40))' must be a date written YYYY-MM-DD, e.g. 2026-12-25")
        return nil
    }

    /// Channels from [webhook, email], each configured above.
    static func renotify(_ items: [Node], _ node: Node, channels: [String], reader r: NodeReader) -> [String]? {
        var out: [String] = []
        for item in items {
            guard let name = r.singleLine(item, "a channel") else { continue }
            guard ["webhook", "email"].contains(name) else {
                r.error(item, "unknown channel '\(name)' in 'handoff.renotify'; expected webhook or email")
                continue
            }
            guard channels.contains(name) else {
                r.error(item, "'handoff.renotify' names '\(name)', but 'handoff.\(name)' is not configured")
                continue
            }
            if !out.contains(name) { out.append(name) }
        }
        if items.isEmpty { r.error(node, "'handoff.renotify' is empty; leave it out to re-notify on the hand-off's own channels") }
        return out.isEmpty ? nil : out
    }
}
