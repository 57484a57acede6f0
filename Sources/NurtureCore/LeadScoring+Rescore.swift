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

    /// Replays `events` under `rules`; nil when neither the score (to 0.01) nor the stage changes. Stages only
    /// move forward: a rescore never demotes a lead sales already has.
    public static func rescore(_ events: [(type: String, machine: Bool, at: Date)], stored: State, until now: Date,
                               rules: ScoringRules) -> Rescore? {
        var state = replay(events, until: now, rules: rules)
        let before = decay(stored, to: now, rules: rules).state.score
        if stored.stage.rank > state.stage.rank { state.stage = stored.stage }
        guard abs(state.score - before) >= 0.01 || state.stage != stored.stage else { return nil }
        return Rescore(state: state, before: before, stageBefore: stored.stage)
    }
}
