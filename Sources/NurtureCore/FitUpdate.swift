import Foundation

/// What a lead's fit becomes after its fields or the rules changed, decided once for every store: the new
/// columns and the ledger lines for the rules that started or stopped matching.
public struct FitUpdate: Sendable, Hashable {
    public var result: FitResult
    public var lines: [FitChange]

    /// A lead as fit rules see it (address, persona and fields), built from a stored row's columns.
    public static func subject(email: String, persona: String, fields: [String: String]) throws -> Lead {
        Lead(email: try EmailAddress(validating: email), persona: persona, fields: fields, consent: Consent(source: "", at: Date(timeIntervalSince1970: 0)))
    }

    /// Nil when neither the matched rules nor the grade changed (nothing to write).
    public static func of(_ lead: Lead, previous: [String: Double], previousGrade: String?, rules: FitRules) -> FitUpdate? {
        let result = FitScoring.evaluate(lead, rules: rules)
        let lines = FitScoring.changes(from: previous, to: result)
        guard !lines.isEmpty || result.grade != previousGrade else { return nil }
        return FitUpdate(result: result, lines: lines)
    }

    /// The matched rules as stored (JSON object label → points), so the next change is explained against them.
    public var matchedJSON: String {
        let data = (try? JSONSerialization.data(withJSONObject: result.matched, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public static func matched(fromJSON text: String?) -> [String: Double] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { ($0 as? NSNumber)?.doubleValue }
    }
}
