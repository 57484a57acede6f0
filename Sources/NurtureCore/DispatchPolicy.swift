import Foundation

/// Everything the dispatch decision for one due send depends on; gathered by the caller, decided here without I/O.
public struct DispatchInput: Sendable {
    public var now: Date
    public var dueAt: Date
    public var sequence: NurtureSequence
    public var stepID: String
    public var leadSuppressed: Bool
    public var leadScore: Double
    /// Score, fit, stage and grade for `when:` exit conditions; nil judges them on `leadScore` alone.
    public var leadFacts: LeadCondition.Facts? = nil
    /// Custom events recorded for the lead since it entered this sequence (`converted`, `demo_requested`, …).
    public var eventsSinceEnrollment: Set<String>
    public var engagement: Engagement
    /// The lead's nurture sends (sent or in flight) within the throttle's reach, across all sequences.
    public var recentSends: [Date]
    /// Emails the lead received since its last human open or click.
    public var sendsSinceEngagement: Int
    public var zone: TimeZone
    public var throttle: ThrottlePolicy
    /// The lead's stage now: a lead that left the sequence's `entry.stage` (a prospect won, a customer recycled)
    /// leaves the sequence.
    public var leadStage: LifecycleStage = .lead
    /// The lead, for a branch's `if:` on its fields.
    public var lead: Lead?
    /// A `wait_for:` row's timeout.
    public var waitUntil: Date?
    /// The recipient paused nurture mail until then (the unsubscribe page's choice): steps wait, none is dropped.
    public var pausedUntil: Date?
    /// The enrollment is in the sequence's holdout: mail steps are skipped (waits and branches still decide).
    public var holdout = false

    public init(now: Date, dueAt: Date, sequence: NurtureSequence, stepID: String, leadSuppressed: Bool, leadScore: Double,
                eventsSinceEnrollment: Set<String>, engagement: Engagement, recentSends: [Date], sendsSinceEngagement: Int,
                zone: TimeZone, throttle: ThrottlePolicy) {
        self.now = now
        self.dueAt = dueAt
        self.sequence = sequence
        self.stepID = stepID
        self.leadSuppressed = leadSuppressed
        self.leadScore = leadScore
        self.eventsSinceEnrollment = eventsSinceEnrollment
        self.engagement = engagement
        self.recentSends = recentSends
        self.sendsSinceEngagement = sendsSinceEngagement
        self.zone = zone
        self.throttle = throttle
    }
}

public enum DispatchDecision: Sendable, Hashable {
    case send
    /// Not yet: outside the lead's window or over its fatigue budget. The step keeps its place.
    case postpone(until: Date, reason: String)
    /// This step is passed over; the enrollment moves on to the next one.
    case skip(reason: String)
    /// The enrollment ends here; `handoff` when the lead goes to sales. `leadWide` ends all the lead's
    /// enrollments (suppression, sunset, hand-off), not only this one.
    case exit(reason: String, handoff: Bool, leadWide: Bool)
    /// A wait or branch is decided: the enrollment goes on at `next` (nil: the step after it in the file).
    case pass(reason: String, next: Jump?)
}

/// The scheduler's decision for a due step, in the order that protects the recipient first.
public enum DispatchPolicy {
    public static func decide(_ i: DispatchInput) -> DispatchDecision {
        if i.leadSuppressed { return .exit(reason: "suppressed", handoff: false, leadWide: true) }
        if !i.sequence.entry.stages.contains(i.leadStage) {
            return .exit(reason: "stage \(i.leadStage.rawValue): the sequence is for \(i.sequence.entry.stages.map(\.rawValue).sorted().joined(separator: ", "))",
                         handoff: false, leadWide: false)
        }
        if let (reason, handoff) = exitRule(of: i.sequence, events: i.eventsSinceEnrollment, score: i.leadScore, facts: i.leadFacts) {
            return .exit(reason: reason, handoff: handoff, leadWide: handoff)
        }
        let step = i.sequence.step(i.stepID)
        // Mail the lead asked for (a download) is exempt from pause, sunset and the fatigue throttle; never from
        // suppression, stage or exit rules.
        let transactional = step?.transactional == true
        // A pause holds mail only: a wait still times out and a branch still decides while the lead is paused.
        if !transactional, step?.flow.isMail ?? true, let until = i.pausedUntil, until > i.now {
            return .postpone(until: until, reason: "paused by the recipient until \(DateText.iso(until))")
        }
        if !transactional && i.sendsSinceEngagement >= i.throttle.sunsetAfter {
            return .exit(reason: "sunset: \(i.sendsSinceEngagement) emails without a human open or click", handoff: false, leadWide: true)
        }
        guard let step else { return .skip(reason: "step removed from the sequence") }
        if let flow = StepFlowPolicy.decide(step, i) { return flow }
        // Even a transactional step: a held-out lead gets nothing from this sequence, or the comparison means nothing.
        if i.holdout { return .skip(reason: "holdout: never mailed") }
        let overdue = i.now.timeIntervalSince(i.dueAt)
        if overdue > Double(i.throttle.staleAfter.seconds) {
            return .skip(reason: "stale: \(TimeSpan(seconds: Int64(overdue))) overdue (limit \(i.throttle.staleAfter))")
        }
        if let c = step.skipIf.first(where: i.engagement.holds) { return .skip(reason: "skip_if \(c)") }
        if !step.onlyIf.isEmpty, !step.onlyIf.contains(where: i.engagement.holds) {
            return .skip(reason: "only_if \(step.onlyIf.map(\.description).joined(separator: " or ")) not met")
        }
        let slot = SendSlot.earliest(from: i.now, window: i.sequence.window, zone: i.zone, recentSends: transactional ? [] : i.recentSends,
                                     policy: i.throttle)
        if slot > i.now {
            let windowOnly = i.sequence.window.nextOpening(atOrAfter: i.now, in: i.zone)
            return .postpone(until: slot, reason: windowOnly == slot ? "outside send window" : "fatigue throttle")
        }
        return .send
    }

    /// The first exit rule of the sequence that the lead's events or score meet: its reason and whether it hands off.
    /// Without `facts`, a `when:` condition is judged on the score alone and never holds if it names fit, stage or grade.
    public static func exitRule(of sequence: NurtureSequence, events: Set<String>, score: Double,
                                facts: LeadCondition.Facts? = nil) -> (reason: String, handoff: Bool)? {
        for rule in sequence.exits {
            switch rule.trigger {
            case .event(let name) where events.contains(name):
                return ("event \(name)", rule.action == .handoff)
            case .scoreAtLeast(let n) where score >= n:
                return ("score \(score) >= \(n)", rule.action == .handoff)
            case .condition(let c) where holds(c, score: score, facts: facts):
                return ("when \(c)", rule.action == .handoff)
            default: continue
            }
        }
        // After the rules: a rule on the same event (`on: demo_requested then: handoff`) still hands the lead over.
        if let goal = sequence.goal, goal.exits, events.contains(goal.event) { return ("goal \(goal.event) reached", false) }
        return nil
    }

    static func holds(_ c: LeadCondition, score: Double, facts: LeadCondition.Facts?) -> Bool {
        if let facts { return c.holds(facts) }
        guard c.terms.allSatisfy({ if case .score = $0 { true } else { false } }) else { return false }
        return c.holds(LeadCondition.Facts(score: score, fit: 0, stage: .lead, grade: nil))
    }
}
