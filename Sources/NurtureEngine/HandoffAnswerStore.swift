import Foundation
import NurtureCore

/// What recording sales' answer (the hand-offs API, `nurture handoff set`) needs from storage: one transaction
/// that stores the answer on the hand-off and commits what the core decided it does to the lead.
public protocol HandoffAnswerStore: Sendable {
    /// Nil for an id that is not a hand-off (unknown, a forwarded reply, or its lead erased).
    func answerHandoff(_ id: Int64, _ answer: HandoffAnswer, outcomes: [HandoffOutcome: HandoffOutcomeRule],
                       scoring: ScoringContext) async throws -> HandoffAnswerResult?
}

/// What an answer did: `changed` is false when the hand-off already had this outcome (a retried request).
public struct HandoffAnswerResult: Sendable, Hashable {
    public var crossing: Int64
    public var leadID: Int64
    public var outcome: HandoffOutcome
    public var previous: HandoffOutcome?
    public var changed: Bool
    public var stage: LifecycleStage
    public var score: Double

    public init(crossing: Int64, leadID: Int64, outcome: HandoffOutcome, previous: HandoffOutcome?, changed: Bool, stage: LifecycleStage,
                score: Double) {
        self.crossing = crossing
        self.leadID = leadID
        self.outcome = outcome
        self.previous = previous
        self.changed = changed
        self.stage = stage
        self.score = score
    }
}
