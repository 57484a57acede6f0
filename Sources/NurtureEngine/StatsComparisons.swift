import Foundation
import NurtureCore

/// How `stats` (text, JSON and the API) reads a sequence's experiment: the holdout's lift, and each A/B test.
public enum StatsComparisons {
    /// Relative lift of the mailed side's conversion rate over the holdout's.
    public static func lift(_ s: SequenceStats) -> String? {
        guard let mailed = s.conversionRate, let held = s.holdoutRate, mailed + held > 0 else { return nil }
        guard held > 0 else { return mailed > 0 ? "+∞" : "0%" }
        return String(format: "%+.1f%%", (mailed / held - 1) * 100)
    }

    /// Each A/B-tested step: its variants compared pairwise with the first, on human clicks and conversions.
    public static func lines(_ steps: [StepStats]) -> [String] {
        var lines: [String] = []
        var seen: [String] = []
        for st in steps where st.variant != nil && !seen.contains(st.stepID) { seen.append(st.stepID) }
        for id in seen {
            let variants = steps.filter { $0.stepID == id && $0.variant != nil }.sorted { $0.variant! < $1.variant! }
            guard let base = variants.first else { continue }
            for other in variants.dropFirst() {
                let c = StepStats.compare(base, other)
                func p(_ t: ProportionTest?) -> String { t.map { String(format: "p = %.3f", $0.p) } ?? "p = –" }
                let verdict: String
                if let w = c.winner {
                    verdict = "winner: \(w)"
                } else if min(base.sent, other.sent) < ProportionTest.minimumSample {
                    verdict = "no winner yet: fewer than \(ProportionTest.minimumSample) sends per variant"
                } else {
                    verdict = "no significant difference"
                }
                lines.append("\(id): \(base.variant!) vs \(other.variant!): clicks \(p(c.clicks)), conversions \(p(c.conversions)); \(verdict)")
            }
        }
        return lines
    }

}
