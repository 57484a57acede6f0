import Foundation
import Testing
import NurtureCore

/// `when:` exits judged on what scoring knows of the lead; without those facts only score terms can hold.
struct ExitConditionTests {
    let seq = NurtureSequence(id: "s", persona: "p", name: "s", steps: [Step(id: "a", after: .zero, template: "t")],
                              exits: [ExitRule(trigger: .condition(LeadCondition(terms: [.fit(.atLeast, 20), .stage(equal: true, .sql)])), action: .handoff),
                                      ExitRule(trigger: .condition(LeadCondition(terms: [.score(.above, 80)])))])

    func facts(score: Double = 0, fit: Double = 0, stage: LifecycleStage = .lead) -> LeadCondition.Facts {
        LeadCondition.Facts(score: score, fit: fit, stage: stage, grade: nil)
    }

    @Test func conditionsHoldOnTheLeadsFacts() {
        #expect(DispatchPolicy.exitRule(of: seq, events: [], score: 0, facts: facts(fit: 25, stage: .sql))! == ("when fit >= 20 and stage == sql", true))
        #expect(DispatchPolicy.exitRule(of: seq, events: [], score: 0, facts: facts(fit: 25, stage: .mql)) == nil)
        #expect(DispatchPolicy.exitRule(of: seq, events: [], score: 81, facts: facts(score: 81))! == ("when score > 80", false))
    }

    @Test func withoutFactsOnlyScoreTermsAreJudged() {
        #expect(DispatchPolicy.exitRule(of: seq, events: [], score: 81)! == ("when score > 80", false))
        #expect(DispatchPolicy.exitRule(of: seq, events: [], score: 50) == nil)
    }

    @Test func theSchedulerPassesFacts() {
        var i = DispatchInput(now: at("2026-11-25T10:00:00Z"), dueAt: at("2026-11-25T10:00:00Z"), sequence: seq, stepID: "a",
                              leadSuppressed: false, leadScore: 0, eventsSinceEnrollment: [], engagement: Engagement(), recentSends: [],
                              sendsSinceEngagement: 0, zone: TimeZone(identifier: "UTC")!, throttle: ThrottlePolicy())
        #expect(DispatchPolicy.decide(i) == .send)
        i.leadFacts = facts(fit: 30, stage: .sql)
        #expect(DispatchPolicy.decide(i) == .exit(reason: "when fit >= 20 and stage == sql", handoff: true, leadWide: true))
    }

    @Test(arguments: ["score = 50", "score => 50", "fit ! 3", "score >= 50 and", "stage == client", "=", "!"])
    func malformedConditionsAreRefused(_ text: String) {
        guard case .failure = LeadCondition.parse(text) else { Issue.record("'\(text)' parsed"); return }
    }

    @Test func entryGatesOfDisjointStagesDoNotOverlap() {
        #expect(!EntryGate(stages: [.customer]).overlaps(EntryGate()))
        #expect(EntryGate(stages: [.sql, .customer]).overlaps(EntryGate()))
        #expect(!EntryGate(match: ["plan": "a"]).overlaps(EntryGate(match: ["plan": "b"])))
    }
}
