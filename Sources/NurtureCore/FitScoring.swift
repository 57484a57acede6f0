import Foundation
import Synchronization

/// Computes a lead's fit from `scoring.fit` rules: pure, so import, field changes and `rescore` agree.
public enum FitScoring {
    /// The fit of a lead under the rules: every matched rule's points, and the grade of the total.
    public static func evaluate(_ lead: Lead, rules: FitRules) -> FitResult {
        var matched: [String: Double] = [:]
        var total = 0.0
        for rule in rules.rules where matches(rule.test, lead) {
            matched[rule.label, default: 0] += rule.points
            total += rule.points
        }
        let points = rounded(total)
        return FitResult(points: points, grade: grade(points, rules: rules), matched: matched)
    }

    /// The grade of a fit total: the highest bound it reaches, else `belowAll`.
    public static func grade(_ points: Double, rules: FitRules) -> String {
        rules.grades.filter { points >= $0.minimum }.max { $0.minimum < $1.minimum }?.letter ?? rules.belowAll
    }

    /// Whether one rule's test holds for the lead; a missing or blank field never matches.
    public static func matches(_ test: FitRule.Test, _ lead: Lead) -> Bool {
        switch test {
        case .field(let name, let fieldTest):
            guard let raw = lead.value(of: name) else { return false }
            let value = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else { return false }
            switch fieldTest {
            case .oneOf(let values):
                let wanted = value.lowercased()
                return values.contains { $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() == wanted }
            case .pattern(let pattern):
                guard let regex = regex(pattern) else { return false }
                return regex.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
            case .range(let min, let max):
                guard let n = number(value) else { return false }
                return (min.map { n >= $0 } ?? true) && (max.map { n <= $0 } ?? true)
            }
        case .emailDomain(let domainTest):
            let domain = String(lead.email.domain).lowercased()
            switch domainTest {
            case .freeMail: return inList(domain, FreeMailDomains.all)
            case .domains(let set): return inList(domain, set)
            }
        }
    }

    /// The domain or one of its parents (`mail.rival.com` → `rival.com`) is in the set (lowercase entries).
    public static func inList(_ domain: String, _ set: Set<String>) -> Bool {
        var rest = Substring(domain.lowercased())
        while !rest.isEmpty {
            if set.contains(String(rest)) { return true }
            guard let dot = rest.firstIndex(of: ".") else { return false }
            rest = rest[rest.index(after: dot)...]
        }
        return false
    }

    /// A field read as a number, thousands separators allowed (`1200`, `1,200`, `1 200`, `1'200`); nil otherwise.
    public static func number(_ text: String) -> Double? {
        let separators: Set<Character> = [",", " ", "'", "_", "\u{00A0}", "\u{202F}"]
        let digits = text.trimmingCharacters(in: .whitespaces).filter { !separators.contains($0) }
        // Double(_:) also reads "inf", "nan" and hexadecimal: only plain decimals are numbers here.
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == "." || $0 == "-" || $0 == "+") }),
              let value = Double(digits), value.isFinite else { return nil }
        return value
    }

    /// A rule's pattern compiled case-insensitively (nil when it does not compile); compiled once per pattern.
    public static func regex(_ pattern: String) -> NSRegularExpression? {
        if let cached = compiled.withLock({ $0[pattern] }) { return cached.regex }
        let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        compiled.withLock { cache in
            if cache.count >= 1_000 { cache.removeAll() }
            cache[pattern] = CompiledPattern(regex: regex)
        }
        return regex
    }

    private struct CompiledPattern: @unchecked Sendable {
        // NSRegularExpression is immutable once built and safe to match from several threads.
        let regex: NSRegularExpression?
    }

    private static let compiled = Mutex<[String: CompiledPattern]>([:])

    /// The ledger lines that explain going from the rules matched before (label → points) to `result`: one per
    /// rule newly matched (+points), no longer matched (−points) or whose points changed (the difference), by
    /// label; `fitAfter` runs from the sum of `previous` to `result.points`. None when nothing changed.
    public static func changes(from previous: [String: Double], to result: FitResult) -> [FitChange] {
        var lines: [FitChange] = []
        var running = previous.sorted { $0.key < $1.key }.reduce(0) { $0 + $1.value }
        for label in Set(previous.keys).union(result.matched.keys).sorted() {
            let before = previous[label], after = result.matched[label]
            let delta = rounded((after ?? 0) - (before ?? 0))
            guard delta != 0 else { continue }
            running += (after ?? 0) - (before ?? 0)
            let cause = switch (before, after) {
            case (nil, _): "fit: \(label) (\(signed(delta)))"
            case (let was?, nil): "fit: no longer \(label) (\(signed(-was)))"
            case (_, let now?): "fit: \(label) now \(signed(now)) (\(signed(delta)))"
            }
            lines.append(FitChange(label: label, delta: delta, fitAfter: rounded(running), cause: cause))
        }
        // The last line lands on the total exactly, whatever rounding the steps took.
        if !lines.isEmpty { lines[lines.count - 1].fitAfter = result.points }
        return lines
    }

    /// Fit totals are kept to two decimals, so replays and reloads compare equal.
    public static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    /// Points as a ledger shows them: `+15`, `−10` (a minus sign), `+2.5`.
    public static func signed(_ value: Double) -> String {
        let v = rounded(value)
        let magnitude = abs(v)
        let text = magnitude == magnitude.rounded() && magnitude < 1e15 ? String(Int(magnitude)) : String(magnitude)
        return (v < 0 ? "\u{2212}" : "+") + text
    }
}

/// One fit ledger line: a rule that started or stopped matching, or whose points changed.
public struct FitChange: Hashable, Sendable {
    public var label: String
    public var delta: Double
    /// The fit total after this line.
    public var fitAfter: Double
    /// The ledger's cause text (`fit: job_title ~ /cto/ (+15)`, `fit: no longer job_title ~ /cto/ (−15)`).
    public var cause: String

    public init(label: String, delta: Double, fitAfter: Double, cause: String) {
        self.label = label
        self.delta = delta
        self.fitAfter = fitAfter
        self.cause = cause
    }
}
