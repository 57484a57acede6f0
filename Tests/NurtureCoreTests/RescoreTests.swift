import Foundation
import NurtureCore
import Testing

/// The rescore decision both stores apply (`LeadScoring.rescore`).
struct RescoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func unchangedRulesReportNoChangeAndAStageIsNeverDemoted() {
        let rules = ScoringRules()
        let log = [(type: "click", machine: false, at: now.addingTimeInterval(-3_600))]
        let replayed = LeadScoring.replay(log, until: now, rules: rules)
        #expect(LeadScoring.rescore(log, stored: replayed, until: now, rules: rules) == nil)
        // A lead sales already has keeps its stage, even when the replayed score is lower.
        let promoted = LeadScoring.State(score: replayed.score, at: replayed.at, stage: .sql)
        #expect(LeadScoring.rescore(log, stored: promoted, until: now, rules: rules) == nil)
        let inflated = LeadScoring.State(score: replayed.score + 40, at: replayed.at, stage: .sql)
        let r = LeadScoring.rescore(log, stored: inflated, until: now, rules: rules)
        #expect(r?.state.stage == .sql && r?.before == replayed.score + 40 && r?.state.score == replayed.score)
        #expect(r?.lead("ada@example.com").stageAfter == "sql")
    }
}
