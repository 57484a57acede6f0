import Foundation

/// Compares two variants' rates (human clicks or conversions per send) with the two-proportion z-test, and only
/// names a winner once both have the minimum sample and the difference is significant.
public struct ProportionTest: Sendable, Hashable {
    public var z: Double
    /// Two-sided p-value.
    public var p: Double

    /// Below this many sends per variant no winner is declared, whatever the p-value says.
    public static let minimumSample = 100
    public static let significance = 0.05

    /// nil when either side has no trials or the pooled rate is 0 or 1 (nothing to compare).
    public init?(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int) {
        guard trialsA > 0, trialsB > 0 else { return nil }
        let pa = Double(successesA) / Double(trialsA), pb = Double(successesB) / Double(trialsB)
        let pooled = Double(successesA + successesB) / Double(trialsA + trialsB)
        let se = (pooled * (1 - pooled) * (1 / Double(trialsA) + 1 / Double(trialsB))).squareRoot()
        guard se > 0 else { return nil }
        z = (pa - pb) / se
        p = erfc(abs(z) / 2.0.squareRoot())
    }

    /// "a" or "b" when the sample suffices and p < 0.05; nil otherwise.
    public static func winner(successesA: Int, trialsA: Int, successesB: Int, trialsB: Int) -> String? {
        guard trialsA >= minimumSample, trialsB >= minimumSample,
              let t = ProportionTest(successesA: successesA, trialsA: trialsA, successesB: successesB, trialsB: trialsB),
              t.p < significance else { return nil }
        return t.z > 0 ? "a" : "b"
    }
}
