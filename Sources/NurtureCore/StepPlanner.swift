import Foundation

/// Which step comes next in an enrollment, by step id, so edited sequence files keep leads in place.
public enum StepPlanner {
    /// The first step after the furthest step already done (sent, skipped, cancelled or failed) that is not done itself.
    /// A removed step is simply absent; a step added after the lead's position is picked up; one added before is not.
    public static func next(in sequence: NurtureSequence, done: Set<String>) -> Step? {
        let lastDone = sequence.steps.lastIndex { done.contains($0.id) } ?? -1
        return sequence.steps[(lastDone + 1)...].first { !done.contains($0.id) }
    }

    /// When a step falls due: `after` from the previous step's resolution (its actual send, or the moment it was
    /// skipped), the first step from enrollment or the lead's `recontact_after`, whichever is later.
    public static func due(_ step: Step, previousResolvedAt: Date?, enrolledAt: Date, recontactAfter: Date?) -> Date {
        let base = previousResolvedAt ?? max(enrolledAt, recontactAfter ?? enrolledAt)
        return base.addingTimeInterval(Double(step.after.seconds))
    }
}

/// Human engagement with an enrollment's earlier steps, as conditions see it (machine opens and clicks excluded).
public struct Engagement: Sendable, Hashable {
    public var opened: Set<String>
    public var clicked: Set<String>

    public init(opened: Set<String> = [], clicked: Set<String> = []) {
        self.opened = opened
        self.clicked = clicked
    }

    public func holds(_ c: Condition) -> Bool {
        switch c {
        case .clicked(let s): clicked.contains(s)
        case .opened(let s): opened.contains(s) || clicked.contains(s) // a click implies the mail was read
        }
    }
}
