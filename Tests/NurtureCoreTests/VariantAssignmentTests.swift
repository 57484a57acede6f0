import Foundation
import NurtureCore
import Testing

/// A/B variants and holdouts are a pure function of sequence, step and lead; the z-test names no winner too early.
struct VariantAssignmentTests {
    static let golden: UInt64 = 0xb981_d53c_d85e_6843 // computed independently (Python) from FNV-1a + SplitMix64
    static func step(_ weights: [Int]) -> Step {
        var s = Step(id: "offer", after: .zero, template: "a")
        s.variants = weights.enumerated().map { Variant(id: ["a", "b", "c"][$0.offset], template: "t\($0.offset)", weight: $0.element) }
        return s
    }

    @Test func theSameLeadGetsTheSameVariantOnEveryRunAndWeightsSplitTheLeads() {
        let s = Self.step([50, 50])
        // Golden value: the hash is part of the format (a release that changed it would reassign every running test).
        #expect(VariantAssignment.hash(["variant", "cto", "offer", "ada@example.com"]) == Self.golden)
        #expect(VariantAssignment.hash(["variant", "cto", "offer", "ada@example.com"]) == VariantAssignment.hash(["variant", "cto", "offer", "ada@example.com"]))
        #expect(VariantAssignment.hash(["a", "b"]) != VariantAssignment.hash(["ab"]), "parts are separated")
        var counts: [String: Int] = [:]
        for i in 0..<10_000 { counts[VariantAssignment.variant(of: s, sequenceID: "cto", leadKey: "lead\(i)@example.com")!.id, default: 0] += 1 }
        #expect(abs(counts["a"]! - 5_000) < 250 && abs(counts["b"]! - 5_000) < 250, "\(counts)")
        var skewed: [String: Int] = [:]
        for i in 0..<10_000 { skewed[VariantAssignment.variant(of: Self.step([90, 10]), sequenceID: "cto", leadKey: "lead\(i)@example.com")!.id, default: 0] += 1 }
        #expect(abs(skewed["b"]! - 1_000) < 150, "\(skewed)")
        // Another step or sequence draws independently.
        var other = s
        other.id = "follow-up"
        let same = (0..<1_000).filter {
            VariantAssignment.variant(of: s, sequenceID: "cto", leadKey: "l\($0)")!.id == VariantAssignment.variant(of: other, sequenceID: "cto", leadKey: "l\($0)")!.id
        }.count
        #expect(abs(same - 500) < 80, "\(same)")
        #expect(VariantAssignment.variant(of: Step(id: "x", after: .zero, template: "t"), sequenceID: "cto", leadKey: "ada") == nil)
    }

    @Test func theHoldoutTakesItsShareAndNoOneElse() {
        var seq = NurtureSequence(id: "cto", persona: "p", name: "cto", steps: [Self.step([1, 1])])
        #expect(!(0..<1_000).contains { VariantAssignment.isHeldOut(seq, leadKey: "l\($0)") })
        seq.holdout = 0.1
        let held = (0..<10_000).filter { VariantAssignment.isHeldOut(seq, leadKey: "lead\($0)@example.com") }.count
        #expect(abs(held - 1_000) < 120, "\(held)")
        #expect(VariantAssignment.isHeldOut(seq, leadKey: "lead7@example.com") == VariantAssignment.isHeldOut(seq, leadKey: "lead7@example.com"))
    }

    @Test func theTwoProportionZTestMatchesTheTextbookAndNeedsTheMinimumSample() throws {
        // 10 of 100 against 20 of 100: pooled 0.15, z = -1.980, p = 0.0477.
        let t = try #require(ProportionTest(successesA: 10, trialsA: 100, successesB: 20, trialsB: 100))
        #expect(abs(t.z + 1.980) < 0.001 && abs(t.p - 0.0477) < 0.0005, "\(t)")
        #expect(ProportionTest.winner(successesA: 10, trialsA: 100, successesB: 20, trialsB: 100) == "b")
        #expect(ProportionTest.winner(successesA: 1, trialsA: 20, successesB: 15, trialsB: 20) == nil, "below the minimum sample")
        #expect(ProportionTest.winner(successesA: 50, trialsA: 500, successesB: 55, trialsB: 500) == nil, "not significant")
        #expect(ProportionTest(successesA: 0, trialsA: 100, successesB: 0, trialsB: 100) == nil)
        var a = StepStats(stepID: "offer", sent: 400, bounced: 0, uniqueOpens: 390, uniqueClicks: 20, clicks: 20, machineOpens: 0, machineClicks: 0, unsubscribes: 0)
        a.variant = "a"
        a.conversions = 4
        var b = a
        b.variant = "b"
        b.uniqueClicks = 60
        b.uniqueOpens = 100
        b.conversions = 5
        // Opens never decide: b has fewer opens but more clicks, and wins on clicks (conversions are too few to tell).
        #expect(StepStats.compare(a, b).winner == "b")
    }
}
