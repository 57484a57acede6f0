import Foundation

/// What `nurture stats` reports for one sequence: its steps, and how many enrolled leads converted or were
/// handed to sales, and how fast.
public struct SequenceStats: Sendable, Hashable {
    public var sequenceID: String
    public var enrolled: Int
    public var converted: Int
    public var handedOff: Int
    /// Median time from enrollment to conversion / hand-off, for those who did.
    public var medianToConvert: TimeInterval?
    public var medianToHandoff: TimeInterval?
    public var steps: [StepStats]

    public init(sequenceID: String, enrolled: Int, converted: Int, handedOff: Int, medianToConvert: TimeInterval?,
                medianToHandoff: TimeInterval?, steps: [StepStats]) {
        self.sequenceID = sequenceID
        self.enrolled = enrolled
        self.converted = converted
        self.handedOff = handedOff
        self.medianToConvert = medianToConvert
        self.medianToHandoff = medianToHandoff
        self.steps = steps
    }

    public static func median(_ values: [TimeInterval]) -> TimeInterval? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// One step: sends and what recipients did with them (people and machines apart).
public struct StepStats: Sendable, Hashable {
    public var stepID: String
    public var sent: Int
    public var bounced: Int
    /// Sends opened at least once by a person.
    public var uniqueOpens: Int
    /// Sends clicked at least once by a person, and human clicks in all.
    public var uniqueClicks: Int
    public var clicks: Int
    public var machineOpens: Int
    public var machineClicks: Int
    public var unsubscribes: Int
    /// From inbound mail: sends with a soft bounce, a complaint, a person's reply, an automatic reply.
    public var softBounced = 0
    public var complaints = 0
    public var replies = 0
    public var autoReplies = 0

    public init(stepID: String, sent: Int, bounced: Int, uniqueOpens: Int, uniqueClicks: Int, clicks: Int, machineOpens: Int,
                machineClicks: Int, unsubscribes: Int, softBounced: Int = 0, complaints: Int = 0, replies: Int = 0, autoReplies: Int = 0) {
        self.softBounced = softBounced
        self.complaints = complaints
        self.replies = replies
        self.autoReplies = autoReplies
        self.stepID = stepID
        self.sent = sent
        self.bounced = bounced
        self.uniqueOpens = uniqueOpens
        self.uniqueClicks = uniqueClicks
        self.clicks = clicks
        self.machineOpens = machineOpens
        self.machineClicks = machineClicks
        self.unsubscribes = unsubscribes
    }

    public func rate(_ n: Int) -> Double? { sent == 0 ? nil : Double(n) / Double(sent) }
}
