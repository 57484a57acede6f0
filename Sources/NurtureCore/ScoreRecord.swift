import Foundation

/// What a scoring outcome commits, decided here once for every store: the new state, the ledger lines that explain
/// it, and what a crossed threshold implies (a hand-off row per channel and the end of every enrollment, or a
/// requested enrollment). A store writes it as given, in the transaction that recorded the event, so a crash never
/// separates a crossing from its consequences.
public struct ScoreRecord: Sendable, Hashable {
    public struct Line: Sendable, Hashable {
        public var at: Date
        public var delta: Double
        public var scoreAfter: Double
        public var cause: String
        /// Tied to the event that caused it (decay is not).
        public var fromEvent: Bool
    }

    public var leadID: Int64
    public var state: LeadScoring.State
    public var ledger: [Line] = []
    /// Hand-off channels to queue a delivery on.
    public var handoffs: [String] = []
    /// When the hand-off becomes overdue without an answer from sales (`handoff.sla`).
    public var handoffDueAt: Date?
    /// The lead leaves nurturing (handed to sales).
    public var end: EnrollmentEnd?
    /// Sequences a threshold asked the lead to enter.
    public var enroll: [String] = []
    /// The stage moved: intake looks at the lead again (a sequence gated on the new stage may take it).
    public var stageChanged = false

    public init(leadID: Int64, outcome: LeadScoring.Outcome, at: Date, context: ScoringContext) {
        self.leadID = leadID
        state = outcome.state
        let s = outcome.state
        ledger = outcome.changes.map { Line(at: $0.at, delta: $0.delta, scoreAfter: $0.scoreAfter, cause: $0.cause, fromEvent: !$0.cause.hasPrefix("decay")) }
        for action in outcome.actions {
            switch action {
            case .stage(let stage):
                stageChanged = true
                ledger.append(Line(at: at, delta: 0, scoreAfter: s.score, cause: "stage → \(stage.rawValue.uppercased())", fromEvent: true))
            case .handoff(let threshold):
                ledger.append(Line(at: at, delta: 0, scoreAfter: s.score, cause: "hand-off: score reached \(threshold)", fromEvent: true))
                handoffs += context.crossingChannels
                handoffDueAt = context.sla?.deadline(after: at)
                end = EnrollmentEnd(enrollmentID: 0, leadID: leadID, reason: "handed to sales at score \(s.score)", handoff: true, allOfLead: true)
            case .enroll(let sequence):
                ledger.append(Line(at: at, delta: 0, scoreAfter: s.score, cause: "enroll in \(sequence)", fromEvent: true))
                enroll.append(sequence)
            }
        }
    }
}
