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
    /// Enrollments in the holdout (counted, never mailed), and goal conversions on each side: the lift.
    public var heldOut = 0
    public var goalConverted = 0
    public var holdoutConverted = 0

    /// The sequence's conversion rate: mailed enrollments that reached the goal in its window.
    public var conversionRate: Double? { enrolled - heldOut > 0 ? Double(goalConverted) / Double(enrolled - heldOut) : nil }
    public var holdoutRate: Double? { heldOut > 0 ? Double(holdoutConverted) / Double(heldOut) : nil }

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
    /// The A/B variant these sends went out as (nil: the step has none, or the row was never sent).
    public var variant: String?
    /// Goal conversions credited to these sends (the last step sent before the goal).
    public var conversions = 0
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

extension StepStats {
    /// A step's rows as `stats` shows them: an A/B-tested step's never-sent rows (no variant yet) fold into nothing,
    /// variants in id order after each other.
    public static func variantsTogether(_ rows: [StepStats]) -> [StepStats] {
        let tested = Set(rows.filter { $0.variant != nil }.map(\.stepID))
        return rows.filter { !($0.variant == nil && tested.contains($0.stepID) && $0.sent == 0) }
    }

    /// Two variants of one step compared on human clicks and on conversions (never opens, which privacy proxies
    /// inflate): each test's p-value, and a winner only past the minimum sample.
    public static func compare(_ a: StepStats, _ b: StepStats) -> (clicks: ProportionTest?, conversions: ProportionTest?, winner: String?) {
        let clicks = ProportionTest(successesA: a.uniqueClicks, trialsA: a.sent, successesB: b.uniqueClicks, trialsB: b.sent)
        let conversions = ProportionTest(successesA: a.conversions, trialsA: a.sent, successesB: b.conversions, trialsB: b.sent)
        let byConversions = ProportionTest.winner(successesA: a.conversions, trialsA: a.sent, successesB: b.conversions, trialsB: b.sent)
        let byClicks = ProportionTest.winner(successesA: a.uniqueClicks, trialsA: a.sent, successesB: b.uniqueClicks, trialsB: b.sent)
        let side = byConversions ?? byClicks
        return (clicks, conversions, side.map { $0 == "a" ? a.variant ?? "a" : b.variant ?? "b" })
    }
}
