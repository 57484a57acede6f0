import Foundation

/// An answer from sales about one hand-off, as the API and `nurture handoff set` receive it.
public struct HandoffAnswer: Sendable, Hashable {
    public var outcome: HandoffOutcome
    /// Why (rejected: not a fit, no budget, duplicate…); one printable line.
    public var reason: String?
    public var at: Date

    public init(outcome: HandoffOutcome, reason: String? = nil, at: Date) {
        self.outcome = outcome
        self.reason = reason
        self.at = at
    }
}

/// What an answer from sales does to a lead, decided here once for every store: the new scoring state, the ledger
/// lines that explain it, the enrollments it ends and the one it asks for (after a cooldown).
public enum HandoffAnswering {
    public struct Decision: Sendable, Hashable {
        /// The answer's own lines (the answer, a reset, the stage), written before `scored`'s.
        public var ledger: [ScoreRecord.Line]
        /// The answer's event scored on the new state (`scoring.points.handoff_won`…): its final state, lines and
        /// any threshold it crosses, persisted like any event's.
        public var scored: LeadScoring.Outcome
        /// Ends every active enrollment of the lead with this reason.
        public var endAll: String?
        /// A sequence to (re-)enter from `enrollAt` (the cooldown's end).
        public var enrollSequence: String?
        public var enrollAt: Date
        /// Event rows to log, in order: `score_reset` when the score starts again, then `handoff_OUTCOME` (the last).
        public var events: [String]
        /// The stage moved: intake looks at the lead again (a sequence gated on the new stage may take it).
        public var stageChanged: Bool
        /// No nurturing before the cooldown's end (`after`): the lead's `recontact_after`, so its persona's sequences
        /// wait too. Nil when the rule has no cooldown.
        public var recontactAfter: Date?
    }

    /// Applies `rule` for `answer` to the lead's state (decayed to the answer's time first).
    public static func decide(_ answer: HandoffAnswer, handoffID: Int64, rule: HandoffOutcomeRule, state stored: LeadScoring.State,
                              rules: ScoringRules) -> Decision {
        let at = answer.at
        let decayed = LeadScoring.decay(stored, to: at, rules: rules)
        var state = decayed.state
        let why = answer.reason.map { " (\($0))" } ?? ""
        var ledger = decayed.changes.map { ScoreRecord.Line(at: $0.at, delta: $0.delta, scoreAfter: $0.scoreAfter, cause: $0.cause, fromEvent: false) }
        ledger.append(ScoreRecord.Line(at: at, delta: 0, scoreAfter: state.score,
                                       cause: "hand-off \(handoffID): sales answered \(answer.outcome.rawValue)\(why)", fromEvent: true))
        var events: [String] = []
        if rule.resetScore, state.score != 0 || !state.fired.isEmpty {
            ledger.append(ScoreRecord.Line(at: at, delta: -state.score, scoreAfter: 0, cause: "score reset: \(answer.outcome.rawValue)", fromEvent: false))
            state.score = 0
            state.fired = []
            // Logged before the answer's own event, so a replay (same time, by id) resets and then scores it too.
            events.append(EventKind.scoreReset.name)
        }
        let answerEvent = EventKind.salesAnswer(answer.outcome).name
        events.append(answerEvent)
        var stageChanged = false
        if let stage = rule.stage, stage != state.stage {
            ledger.append(ScoreRecord.Line(at: at, delta: 0, scoreAfter: state.score, cause: "stage → \(stage.rawValue.uppercased()) (sales: \(answer.outcome.rawValue))",
                                           fromEvent: true))
            state.stage = stage
            stageChanged = true
        }
        state.at = at
        let scored = LeadScoring.apply(answerEvent, machine: false, cause: answerEvent, at: at, to: state, rules: rules)
        return Decision(ledger: ledger, scored: scored, endAll: rule.stopNurturing ? "sales answered \(answer.outcome.rawValue)" : nil,
                        enrollSequence: rule.enroll, enrollAt: at.addingTimeInterval(Double(rule.after.seconds)), events: events,
                        stageChanged: stageChanged,
                        recontactAfter: rule.after.seconds > 0 ? at.addingTimeInterval(Double(rule.after.seconds)) : nil)
    }
}
