import Foundation

/// Computes a lead's fit from `scoring.fit` rules: pure, so import, field changes and `rescore` agree.
public enum FitScoring {
    /// The fit of a lead under the rules: every matched rule's points, and the grade of the total.
    public static func evaluate(_ lead: Lead, rules: FitRules) -> FitResult {
        FitResult(points: 0, grade: rules.belowAll, matched: [:]) // TODO(helper): implement
    }

    /// The ledger lines that explain going from the rules matched before (label → points) to `result`: one per
    /// rule newly matched (+points) or no longer matched (−points), in a stable order; none when nothing changed.
    public static func changes(from previous: [String: Double], to result: FitResult) -> [FitChange] {
        [] // TODO(helper): implement
    }
}

/// One fit ledger line: a rule that started or stopped matching.
public struct FitChange: Hashable, Sendable {
    public var label: String
    public var delta: Double
    /// The fit total after this line.
    public var fitAfter: Double
    /// The ledger's cause text (`fit: job_title ~ /cto/ +15`).
    public var cause: String

    public init(label: String, delta: Double, fitAfter: Double, cause: String) {
        self.label = label
        self.delta = delta
        self.fitAfter = fitAfter
        self.cause = cause
    }
}
