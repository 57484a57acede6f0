import Foundation

/// `nurture plan`'s text and JSON, here so tests compare them with golden output.
extension SequencePlan {
    /// Each plan with the template edits its snapshots show (`~ template NAME (edited)`).
    public static func text(_ plans: [(SequencePlan, [String])]) -> String {
        guard !plans.isEmpty else { return "no enrolled lead runs a version other than the files on disk: nothing to plan\n" }
        var out = ""
        for (p, templates) in plans {
            let running = p.running.sorted { $0.key < $1.key }.map { "\($0.key.isEmpty ? "(not recorded)" : $0.key): \($0.value)" }
            out += "\(p.sequenceID): files on disk are version \(p.version); enrollments run \(running.isEmpty ? "none" : running.joined(separator: ", "))\n"
            let changes = p.stepChanges + templates
            if !changes.isEmpty { out += "  changes: " + changes.joined(separator: ", ") + "\n" }
            if !p.groups.isEmpty {
                out += "  step            leads  effect    detail\n"
                for g in p.groups {
                    out += "  " + g.stepID.padding(toLength: max(14, g.stepID.count), withPad: " ", startingAt: 0) + " "
                        + String(repeating: " ", count: max(0, 6 - String(g.count).count)) + String(g.count) + "  " + g.effect.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0) + "  " + g.detail + "\n"
                }
            }
            let totals = SequencePlan.Effect.allCases.map { "\($0.rawValue) \(p.count($0))" }.joined(separator: ", ")
            out += "  totals: \(totals)\n"
            out += "  sends due in 24 h: \(p.sends.day.now) now, \(p.sends.day.after) after the change; "
                + "in 7 d: \(p.sends.week.now) now, \(p.sends.week.after) after (due times, before windows and the throttle)\n"
        }
        return out
    }

    public static func json(_ plans: [(SequencePlan, [String])]) -> String {
        let document: [[String: Any]] = plans.map { p, templates in
            [
                "sequence": p.sequenceID, "version": p.version, "running": p.running, "changes": p.stepChanges + templates,
                "groups": p.groups.map { ["step": $0.stepID, "effect": $0.effect.rawValue, "detail": $0.detail, "leads": $0.count] as [String: Any] },
                "totals": Dictionary(uniqueKeysWithValues: SequencePlan.Effect.allCases.map { ($0.rawValue, p.count($0)) }),
                "sends": ["next_24h": ["now": p.sends.day.now, "after": p.sends.day.after],
                          "next_7d": ["now": p.sends.week.now, "after": p.sends.week.after]],
            ]
        }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
