import Foundation

/// Scoring as a pure state machine: events add points, time decays the score, thresholds (with hysteresis) move
/// the stage, hand the lead to sales or enroll it elsewhere. Every change comes back as a ledger entry with its
/// cause, so a score can always be explained; callers store the state and perform the actions.
public enum LeadScoring {
    public struct State: Sendable, Hashable {
        public var score: Double
        /// When `score` was last brought up to date (decay runs from here).
        public var at: Date?
        public var stage: LifecycleStage
        /// Thresholds (by their `at`) that fired and have not re-armed yet.
        public var fired: Set<Double>
        /// The fit score and grade (`scoring.fit`): read for thresholds' `when:`, never changed by events.
        public var fit: Double
        public var grade: String?

        public init(score: Double = 0, at: Date? = nil, stage: LifecycleStage = .lead, fired: Set<Double> = [], fit: Double = 0,
                    grade: String? = nil) {
            self.score = score
            self.at = at
            self.stage = stage
            self.fired = fired
            self.fit = fit
            self.grade = grade
        }

        public var facts: LeadCondition.Facts { LeadCondition.Facts(score: score, fit: fit, stage: stage, grade: grade) }
    }

    public struct Change: Sendable, Hashable {
        public var delta: Double
        public var scoreAfter: Double
        public var cause: String
        public var at: Date
    }

    public enum Action: Sendable, Hashable {
        case stage(LifecycleStage)
        case handoff(threshold: Double)
        case enroll(sequenceID: String)
    }

    public struct Outcome: Sendable, Hashable {
        public var state: State
        public var changes: [Change] = []
        public var actions: [Action] = []
    }

    /// The points an event is worth: machine opens and clicks under their own keys.
    public static func points(for type: String, machine: Bool, rules: ScoringRules) -> Double {
        if machine, type == "open" || type == "click" { return rules.points["machine_\(type)"] ?? 0 }
        return rules.points[type] ?? 0
    }

    /// Brings the score up to `now` by half-life decay; no change when less than 0.01 point would move.
    public static func decay(_ state: State, to now: Date, rules: ScoringRules) -> Outcome {
        var out = Outcome(state: state)
        guard let halfLife = rules.halfLife, let since = state.at, now > since, state.score != 0 else {
            if state.at == nil || now > state.at! { out.state.at = now }
            return out
        }
        let factor = pow(0.5, now.timeIntervalSince(since) / Double(halfLife.seconds))
        let decayed = (state.score * factor * 100).rounded() / 100
        out.state.at = now
        if abs(decayed - state.score) >= 0.01 {
            out.changes.append(Change(delta: decayed - state.score, scoreAfter: decayed, cause: "decay (half-life \(halfLife))", at: now))
            out.state.score = decayed
        }
        return thresholds(out, rules: rules, at: now)
    }

    /// Decays to the event's time, adds its points, then applies thresholds.
    public static func apply(_ type: String, machine: Bool, cause: String, at: Date, to state: State, rules: ScoringRules) -> Outcome {
        var out = decay(state, to: at, rules: rules)
        let delta = points(for: type, machine: machine, rules: rules)
        guard delta != 0 else { return out }
        out.state.score = ((out.state.score + delta) * 100).rounded() / 100
        out.changes.append(Change(delta: delta, scoreAfter: out.state.score, cause: cause, at: at))
        return thresholds(out, rules: rules, at: at)
    }

    /// Fires each armed threshold the score reached, and re-arms those it fell `hysteresis` below. A threshold is
    /// for prospects (lead, mql, sql) unless its `when:` names a stage (`stage == customer` for ambassadors): a
    /// customer is not handed to sales again, nor a lead sales rejected; `when:` must also hold.
    static func thresholds(_ outcome: Outcome, rules: ScoringRules, at: Date) -> Outcome {
        var out = outcome
        for t in rules.thresholds.sorted(by: { $0.at < $1.at }) {
            if out.state.fired.contains(t.at) {
                if out.state.score < t.at - t.hysteresis { out.state.fired.remove(t.at) }
                continue
            }
            guard out.state.score >= t.at else { continue }
            if let when = t.when, !when.holds(out.state.facts) { continue }
            if !(t.when?.namesStage ?? false), !LifecycleStage.prospects.contains(out.state.stage) { continue }
            out.state.fired.insert(t.at)
            // Stages only move forward: a cooling lead keeps what sales already saw.
            if let stage = t.stage, stage.rank > out.state.stage.rank {
                out.state.stage = stage
                out.actions.append(.stage(stage))
            }
            if t.handoff { out.actions.append(.handoff(threshold: t.at)) }
            if let sequence = t.enroll { out.actions.append(.enroll(sequenceID: sequence)) }
        }
        return out
    }

    /// A fit change (fields or rules) can satisfy a threshold's `when:` (`fit >= 20 and score >= 50`): thresholds
    /// are judged again with the new fit; no points move.
    public static func refit(_ state: State, fit: Double, grade: String?, at: Date, rules: ScoringRules) -> Outcome {
        var s = state
        s.fit = fit
        s.grade = grade
        return thresholds(Outcome(state: s), rules: rules, at: at)
    }

    /// Replays a lead's events from zero under the current rules (`nurture rescore`); a `score_reset` event (an
    /// answer from sales that resets the score) starts again from zero there, as it did when recorded.
    public static func replay(_ events: [(type: String, machine: Bool, at: Date)], until now: Date, rules: ScoringRules,
                              fit: Double = 0, grade: String? = nil) -> State {
        var state = State(fit: fit, grade: grade)
        for e in events.sorted(by: { $0.at < $1.at }) {
            if e.type == EventKind.scoreReset.name {
                state = State(score: 0, at: e.at, stage: state.stage, fired: [], fit: fit, grade: grade)
                continue
            }
            state = apply(e.type, machine: e.machine, cause: e.type, at: e.at, to: state, rules: rules).state
        }
        return decay(state, to: now, rules: rules).state
    }
}

extension LifecycleStage {
    /// Funnel order.
    public var rank: Int { Self.allCases.firstIndex(of: self)! }
}

/// What recording an event needs to score it: the rules, and where hand-offs go.
public struct ScoringContext: Sendable, Hashable {
    public var rules: ScoringRules
    /// `webhook`, `email`: one hand-off row per channel when a hand-off threshold is crossed.
    public var handoffChannels: [String]
    /// When an unanswered hand-off becomes overdue (`handoff.sla`); nil: never.
    public var sla: HandoffSLA?

    /// The rows a hand-off is recorded on: its channels, or one `none` row when no channel is configured, so even
    /// then the hand-off has an id sales can answer (`nurture handoff set`) and stats count it.
    public var crossingChannels: [String] { handoffChannels.isEmpty ? [Self.noChannel] : handoffChannels }
    public static let noChannel = "none"

    public init(rules: ScoringRules, handoffChannels: [String], sla: HandoffSLA? = nil) {
        self.rules = rules
        self.handoffChannels = handoffChannels
        self.sla = sla
    }
}
