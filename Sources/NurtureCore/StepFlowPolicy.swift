import Foundation

/// How a due wait or branch is decided: the behaviour seen (or the condition holding) goes to `then`, a timeout (or
/// the condition failing) to `else`; a wait whose behaviour is not seen yet waits on until its timeout.
public enum StepFlowPolicy {
    /// Nil for a mail step (decided by the send rules).
    public static func decide(_ step: Step, _ i: DispatchInput) -> DispatchDecision? {
        switch step.flow {
        case .mail:
            return nil
        case .wait(let w):
            if seen(w.behaviour, i) { return .pass(reason: "\(w.behaviour) seen", next: step.then) }
            let until = i.waitUntil ?? i.dueAt
            if i.now < until { return .postpone(until: until, reason: "waiting for \(w.behaviour)") }
            return .pass(reason: "no \(w.behaviour) within \(w.within)", next: step.otherwise)
        case .branch(let c):
            let lead = i.lead
            let facts = FlowCondition.Facts(lead: i.leadFacts ?? LeadCondition.Facts(score: i.leadScore, fit: 0, stage: i.leadStage, grade: nil),
                                            field: { lead?.value(of: $0) }, engagement: i.engagement, events: i.eventsSinceEnrollment)
            return c.holds(facts) ? .pass(reason: "if \(c): true", next: step.then) : .pass(reason: "if \(c): false", next: step.otherwise)
        }
    }

    static func seen(_ b: WaitFor.Behaviour, _ i: DispatchInput) -> Bool {
        switch b {
        case .event(let name): i.eventsSinceEnrollment.contains(name)
        case .engaged(let c): i.engagement.holds(c)
        }
    }
}
