import Foundation

/// The window in which an event counts as a sequence's conversion: enrollments that began at or after `since`.
public struct GoalWindow: Sendable, Hashable {
    public var sequenceID: String
    public var since: Date

    public init(sequenceID: String, since: Date) {
        self.sequenceID = sequenceID
        self.since = since
    }
}

/// `goal: { on: EVENT, within: 30d }`: which sequences an event converts for. The store credits each conversion
/// to the lead's latest enrollment in the sequence that began within the window (active or ended: a lead that
/// buys a week after the last email still converted), once per enrollment, to the last step sent before it.
public enum GoalPolicy {
    public static func windows(_ sequences: [NurtureSequence], event: String, at: Date) -> [GoalWindow] {
        sequences.compactMap { s in
            guard let goal = s.goal, goal.event == event else { return nil }
            return GoalWindow(sequenceID: s.id, since: at.addingTimeInterval(-Double(goal.within.seconds)))
        }
    }
}
