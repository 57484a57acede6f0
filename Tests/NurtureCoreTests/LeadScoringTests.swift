import Foundation
import NurtureCore
import Testing

/// Scoring on a test clock: decay, hysteresis, stages that only move forward, and the actions thresholds take.
struct LeadScoringTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let rules = ScoringRules(points: ["open": 1, "machine_open": 0, "click": 5, "demo_requested": 30, "unsubscribe": -50],
                             halfLife: .days(10),
                             thresholds: [ScoreThreshold(at: 20, stage: .mql, hysteresis: 5),
                                          ScoreThreshold(at: 50, stage: .sql, handoff: true, hysteresis: 10),
                                          ScoreThreshold(at: 40, enroll: "vip-track")])

    func day(_ n: Double) -> Date { t0.addingTimeInterval(n * 86_400) }

    @Test func pointsDecayByHalfLifeAndEveryChangeHasACause() {
        var s = LeadScoring.apply("click", machine: false, cause: "click (seq/one)", at: t0, to: .init(), rules: rules)
        #expect(s.state.score == 5 && s.changes.map(\.cause) == ["click (seq/one)"])
        s = LeadScoring.apply("open", machine: false, cause: "open", at: day(10), to: s.state, rules: rules)
        // Ten days = one half-life: 5 → 2.5, then +1.
        #expect(s.changes.map(\.delta) == [-2.5, 1])
        #expect(s.changes.first?.cause == "decay (half-life 1w3d)")
        #expect(s.state.score == 3.5)
        // Machine opens are worth their own points (zero here): no change at all.
        let m = LeadScoring.apply("open", machine: true, cause: "machine open", at: day(10), to: s.state, rules: rules)
        #expect(m.changes.isEmpty && m.state.score == 3.5)
    }

    @Test func thresholdsFireOnceAndRearmOnlyBelowTheHysteresis() {
        var s = LeadScoring.apply("demo_requested", machine: false, cause: "demo", at: t0, to: .init(), rules: rules)
        #expect(s.state.score == 30 && s.state.stage == .mql && s.actions == [.stage(.mql)])
        // Decays to 16.97 after ~8.2 days: within the 5-point hysteresis of 20, nothing re-arms.
        s = LeadScoring.apply("open", machine: false, cause: "open", at: day(8), to: s.state, rules: rules)
        #expect(s.state.fired.contains(20))
        s = LeadScoring.apply("click", machine: false, cause: "click", at: day(8), to: s.state, rules: rules)
        #expect(s.actions.isEmpty) // back over 20: no second firing
        // Far below 15: re-armed, and the stage stays MQL (stages never move back).
        s = LeadScoring.decay(s.state, to: day(40), rules: rules)
        #expect(!s.state.fired.contains(20) && s.state.stage == .mql)
        s = LeadScoring.apply("demo_requested", machine: false, cause: "demo", at: day(40), to: s.state, rules: rules)
        #expect(s.state.fired.contains(20))
        #expect(s.actions.isEmpty) // fired again, but the stage was already MQL
    }

    @Test func crossingSeveralThresholdsTakesEveryAction() {
        var s = LeadScoring.apply("demo_requested", machine: false, cause: "demo", at: t0, to: .init(), rules: rules)
        s = LeadScoring.apply("demo_requested", machine: false, cause: "demo", at: t0, to: s.state, rules: rules)
        #expect(s.state.score == 60)
        #expect(s.actions == [.enroll(sequenceID: "vip-track"), .stage(.sql), .handoff(threshold: 50)])
        let down = LeadScoring.apply("unsubscribe", machine: false, cause: "unsubscribe", at: t0, to: s.state, rules: rules)
        #expect(down.state.score == 10 && down.actions.isEmpty && down.state.stage == .sql)
    }

    @Test func replayRecomputesFromTheEventLog() {
        let events = [(type: "demo_requested", machine: false, at: t0), (type: "click", machine: true, at: day(1)), (type: "open", machine: false, at: day(10))]
        let state = LeadScoring.replay(events, until: day(10), rules: rules)
        #expect(state.score == 16)   // 30 halved over 10 days, plus 1
        #expect(state.stage == .mql)
    }
}
