import Foundation
import Testing
@testable import NurtureCore

/// The lifecycle's rules, pure: thresholds with `when:`, prospects-only thresholds, what an answer from sales
/// decides, and a rescore that respects both.
struct LifecycleScoringTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func rules(_ thresholds: [ScoreThreshold]) -> ScoringRules {
        ScoringRules(points: ["demo_requested": 30, "referred": 30, "reviewed": 20, "handoff_won": 5], halfLife: nil, thresholds: thresholds)
    }

    @Test func aThresholdWithBothScoresFiresOnlyWhenTheFitAlsoHolds() throws {
        let both = try LeadCondition.parse("fit >= 20 and score >= 50").get()
        let r = rules([ScoreThreshold(at: 50, handoff: true, when: both)])
        let student = LeadScoring.State(score: 40, fit: 5, grade: "C")
        #expect(LeadScoring.apply("demo_requested", machine: false, cause: "x", at: t0, to: student, rules: r).actions.isEmpty)
        let cto = LeadScoring.State(score: 40, fit: 25, grade: "B")
        #expect(LeadScoring.apply("demo_requested", machine: false, cause: "x", at: t0, to: cto, rules: r).actions == [.handoff(threshold: 50)])
    }

    @Test func aThresholdWithoutWhenIsForProspectsOnly() {
        let r = rules([ScoreThreshold(at: 25, stage: .sql, handoff: true)])
        for stage in LifecycleStage.allCases {
            let out = LeadScoring.apply("demo_requested", machine: false, cause: "x", at: t0, to: LeadScoring.State(stage: stage), rules: r)
            #expect(out.actions.contains(.handoff(threshold: 25)) == LifecycleStage.prospects.contains(stage), "\(stage)")
        }
    }

    @Test func customerEventsMakeAnAmbassadorThroughAConditionOnTheStage() throws {
        let r = rules([ScoreThreshold(at: 40, stage: .ambassador, enroll: "ambassador", when: try LeadCondition.parse("stage == customer").get())])
        var state = LeadScoring.State(stage: .customer)
        state = LeadScoring.apply("referred", machine: false, cause: "referred", at: t0, to: state, rules: r).state
        let out = LeadScoring.apply("reviewed", machine: false, cause: "reviewed", at: t0, to: state, rules: r)
        #expect(out.state.stage == .ambassador && out.actions == [.stage(.ambassador), .enroll(sequenceID: "ambassador")])
        // A prospect with the same score stays where it is.
        var prospect = LeadScoring.State(stage: .mql)
        prospect = LeadScoring.apply("referred", machine: false, cause: "r", at: t0, to: prospect, rules: r).state
        #expect(LeadScoring.apply("reviewed", machine: false, cause: "r", at: t0, to: prospect, rules: r).state.stage == .mql)
    }

    @Test func anAnswerFromSalesMovesTheStageExplicitlyResetsAndScoresItsEvent() {
        let state = LeadScoring.State(score: 80, at: t0, stage: .sql, fired: [50])
        let won = HandoffAnswering.decide(HandoffAnswer(outcome: .won, reason: "signed", at: t0), handoffID: 7,
                                          rule: HandoffOutcomeRule(stage: .customer, enroll: "onboarding", resetScore: true),
                                          state: state, rules: rules([]))
        #expect(won.ledger.map(\.cause) == ["hand-off 7: sales answered won (signed)", "score reset: won", "stage → CUSTOMER (sales: won)"])
        #expect(won.events == ["score_reset", "handoff_won"] && won.stageChanged && won.endAll != nil)
        #expect(won.scored.state.score == 5 && won.scored.state.stage == .customer && won.scored.state.fired.isEmpty)
        #expect(won.enrollSequence == "onboarding" && won.enrollAt == t0 && won.recontactAfter == nil)
        let recycled = HandoffAnswering.decide(HandoffAnswer(outcome: .recycled, at: t0), handoffID: 7,
                                               rule: HandoffOutcomeRule(stage: .lead, enroll: "track", after: .days(30)), state: state, rules: rules([]))
        #expect(recycled.scored.state.stage == .lead && recycled.scored.state.score == 80 && recycled.events == ["handoff_recycled"])
        #expect(recycled.enrollAt == t0.addingTimeInterval(30 * 86_400) && recycled.recontactAfter == recycled.enrollAt)
    }

    @Test func anAnswersDecayIsInTheLedgerSoItsLinesAddUp() {
        var r = rules([])
        r.halfLife = .days(30)
        let state = LeadScoring.State(score: 80, at: t0, stage: .sql)
        let d = HandoffAnswering.decide(HandoffAnswer(outcome: .accepted, at: t0.addingTimeInterval(30 * 86_400)), handoffID: 1,
                                        rule: HandoffOutcomeRule(stage: .sql), state: state, rules: r)
        #expect(d.ledger.first?.cause.hasPrefix("decay") == true && d.ledger.first?.delta == -40)
        #expect(80 + d.ledger.map(\.delta).reduce(0, +) == d.scored.state.score)
    }

    @Test func aConditionWithoutAStageKeepsAThresholdToProspects() throws {
        let r = rules([ScoreThreshold(at: 50, handoff: true, when: try LeadCondition.parse("fit >= 20 and score >= 50").get())])
        for stage in LifecycleStage.allCases {
            let out = LeadScoring.apply("demo_requested", machine: false, cause: "x", at: t0, to: LeadScoring.State(score: 30, stage: stage, fit: 25), rules: r)
            #expect(out.actions.contains(.handoff(threshold: 50)) == LifecycleStage.prospects.contains(stage), "\(stage)")
        }
    }

    @Test func aRescoreReplaysPastAScoreResetAndKeepsTheStageSalesSet() {
        let r = rules([ScoreThreshold(at: 25, stage: .sql, handoff: true)])
        // As a store logs a won answer with a reset: the reset, then the answer's own (scored: 5 points) event.
        let log: [(type: String, machine: Bool, at: Date)] = [
            ("demo_requested", false, t0), ("score_reset", false, t0.addingTimeInterval(1)), ("handoff_won", false, t0.addingTimeInterval(1)),
        ]
        let stored = LeadScoring.State(score: 5, at: t0.addingTimeInterval(1), stage: .customer)
        // Unchanged rules: nothing to report (the reset is replayed, and the stage stays the one sales set).
        #expect(LeadScoring.rescore(log, stored: stored, until: t0.addingTimeInterval(2), rules: r) == nil)
    }

    @Test func entryGatesOnFitAndStage() throws {
        var lead = Lead(email: try EmailAddress(validating: "ada@example.com"), persona: "cto", consent: Consent(source: "t", at: t0), fit: 15)
        #expect(EntryGate(minFit: 20).admits(lead) == false)
        lead.fit = 20
        #expect(EntryGate(minFit: 20).admits(lead))
        lead.stage = .customer
        #expect(EntryGate().admits(lead) == false) // prospects only by default: a customer gets no prospect mail
        #expect(EntryGate(stages: [.customer]).admits(lead))
        #expect(EntryGate(stages: [.customer]).overlaps(EntryGate()) == false)
    }

    @Test func conditionsAreTypedWhenParsed() {
        #expect(throws: Never.self) { try LeadCondition.parse("fit>=20 and grade == A and stage != disqualified").get() }
        for bad in ["fit >= high", "stage == vip", "grade == ab", "color == red", "score >= 50 and", "score >= 50 or fit >= 2", "score = 5"] {
            #expect(throws: LeadCondition.ParseError.self, "\(bad)") { try LeadCondition.parse(bad).get() }
        }
        let c = try? LeadCondition.parse("fit >= 20 and score >= 50").get()
        #expect(c?.description == "fit >= 20 and score >= 50")
        #expect(c?.holds(.init(score: 50, fit: 20, stage: .lead, grade: nil)) == true)
        #expect(c?.holds(.init(score: 50, fit: 19.5, stage: .lead, grade: nil)) == false)
    }
}
