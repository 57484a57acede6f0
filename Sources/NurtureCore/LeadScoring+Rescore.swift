import Foundation

extension LeadScoring {
    /// What `nurture rescore` decides for one lead, once, for every store: the replayed state, and what it replaces.
    public struct Rescore: Sendable {
        public var state: State
        /// The stored score decayed to now: unchanged rules report no change.
        public var before: Double
        public var stageBefore: LifecycleStage

        public static let cause = "rescore from the event log under the current rules"

        public func lead(_ email: String) -> RescoredLead {
            RescoredLead(email: email, before: before, after: state.score, stageBefore: stageBefore.rawValue, stageAfter: state.stage.rawValue)
        }
    }

    /// Replays `events` under `rules` (with the lead's fit, recomputed first, for thresholds' `when:`); nil when
    /// neither the score (to 0.01) nor the stage changes. Stages only move forward: a rescore never demotes a lead
    /// sales already has, nor changes a stage sales' answer set.
    public static func rescore(_ events: [(type: String, machine: Bool, at: Date)], stored: State, until now: Date,
                               rules: ScoringRules) -> Rescore? {
        var state = replay(events, until: now, rules: rules, fit: stored.fit, grade: stored.grade)
        let before = decay(stored, to: now, rules: rules).state.score
        if stored.stage.rank > state.stage.rank { state.stage = stored.stage }
        // Sales' answer sets the stage explicitly (recycled moves a lead back): a replay, which does not know what
        // the outcome rules were then, never overrides it.
        if events.contains(where: { if case .salesAnswer = EventKind($0.type) { true } else { false } }) { state.stage = stored.stage }
        guard abs(state.score - before) >= 0.01 || state.stage != stored.stage else { return nil }
        return Rescore(state: state, before: before, stageBefore: stored.stage)
    }
}

extension LeadScoring {
    /// A rescore of both scores: the fit recomputed from the lead's fields under `rules.fit` first (thresholds'
    /// `when:` read it), then the engagement replay; `line` is what the report shows (nil: nothing changed).
    public struct FullRescore: Sendable {
        public var fit: FitUpdate?
        public var engagement: Rescore?
        public var line: RescoredLead?
    }

    public static func rescore(_ events: [(type: String, machine: Bool, at: Date)], stored: State, lead: Lead, matched: [String: Double],
                               until now: Date, rules: ScoringRules) -> FullRescore {
        var state = stored
        let fit = FitUpdate.of(lead, previous: matched, previousGrade: stored.grade, rules: rules.fit)
        if let fit {
            state.fit = fit.result.points
            state.grade = fit.result.grade
        }
        let engagement = rescore(events, stored: state, until: now, rules: rules)
        var line = engagement?.lead(lead.email.value)
        if let fit, fit.result.points != stored.fit {
            if line == nil {
                line = RescoredLead(email: lead.email.value, before: stored.score, after: stored.score, stageBefore: stored.stage.rawValue,
                                    stageAfter: stored.stage.rawValue)
            }
            line?.fitBefore = stored.fit
            line?.fitAfter = fit.result.points
        }
        return FullRescore(fit: fit, engagement: engagement, line: line)
    }
}
