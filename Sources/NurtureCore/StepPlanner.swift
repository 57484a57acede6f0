import Foundation

/// Which step comes next in an enrollment, by step id, so edited sequence files keep leads in place.
public enum StepPlanner {
    /// The first step after the furthest step already done (sent, skipped, cancelled or failed) that is not done itself.
    /// A removed step is simply absent; a step added after the lead's position is picked up; one added before is not.
    public static func next(in sequence: NurtureSequence, done: Set<String>) -> Step? {
        let lastDone = sequence.steps.lastIndex { done.contains($0.id) } ?? -1
        return sequence.steps[(lastDone + 1)...].first { !done.contains($0.id) }
    }

    /// The most times one enrollment may reach a step: a loop through a wait that never ends (validate refuses
    /// loops without a wait) still stops, and the enrollment completes.
    public static let maximumVisits = 20

    /// Where the enrollment goes after resolving `current`: `jump` when it names one (a branch's, a wait's or a mail
    /// step's `then:`), else the step after `current` in the file. A sequence without any flow keeps the rule of
    /// `next(in:done:)` (an edited file keeps leads in place), as does a `current` that an edit removed. Nil: the
    /// enrollment completes (the end of the file, `exit`, a removed target with nothing after it, or the visit limit).
    public static func next(in sequence: NurtureSequence, after current: String, jump: Jump?, done: Set<String>,
                            visits: [String: Int] = [:]) -> (step: Step, visit: Int)? {
        let step: Step?
        switch jump {
        case .exit?:
            return nil
        case .step(let id)?:
            step = sequence.step(id) ?? following(current, in: sequence, done: done)
        case nil:
            step = following(current, in: sequence, done: done)
        }
        guard let step else { return nil }
        let visit = (visits[step.id] ?? (done.contains(step.id) ? 1 : 0)) + 1
        return visit > maximumVisits ? nil : (step, visit)
    }

    static func following(_ current: String, in sequence: NurtureSequence, done: Set<String>) -> Step? {
        guard sequence.hasFlow, let index = sequence.steps.firstIndex(where: { $0.id == current }) else {
            return next(in: sequence, done: done.union([current]))
        }
        return index + 1 < sequence.steps.count ? sequence.steps[index + 1] : nil
    }

    /// When a step falls due: `after` from the previous step's resolution (its actual send, or the moment it was
    /// skipped), the first step from enrollment or the lead's `recontact_after`, whichever is later.
    public static func due(_ step: Step, previousResolvedAt: Date?, enrolledAt: Date, recontactAfter: Date?) -> Date {
        let base = previousResolvedAt ?? max(enrolledAt, recontactAfter ?? enrolledAt)
        return base.addingTimeInterval(Double(step.after.seconds))
    }

    /// A wait's timeout: `within` from when the wait begins (its due time).
    public static func waitUntil(_ step: Step, dueAt: Date) -> Date? {
        if case .wait(let w) = step.flow { return dueAt.addingTimeInterval(Double(w.within.seconds)) }
        return nil
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
