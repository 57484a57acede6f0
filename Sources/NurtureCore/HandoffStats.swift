/// Hand-offs of one sequence (the last one that mailed the lead) and what sales made of them: `nurture stats`,
/// the API and `/metrics` show where leads leak between marketing and sales.
public struct HandoffStats: Sendable, Hashable {
    public var sequenceID: String
    public var handedOff: Int
    public var outcomes: [HandoffOutcome: Int]
    /// No answer yet; `overdue` of them are past the SLA.
    public var awaiting: Int
    public var overdue: Int
    /// Sum and count of (first accepted, won or lost answer − hand-off), for the mean time to accept.
    public var acceptSeconds: Double
    public var acceptCount: Int

    public init(sequenceID: String, handedOff: Int = 0, outcomes: [HandoffOutcome: Int] = [:], awaiting: Int = 0, overdue: Int = 0,
                acceptSeconds: Double = 0, acceptCount: Int = 0) {
        self.sequenceID = sequenceID
        self.handedOff = handedOff
        self.outcomes = outcomes
        self.awaiting = awaiting
        self.overdue = overdue
        self.acceptSeconds = acceptSeconds
        self.acceptCount = acceptCount
    }

    /// Sales took the lead: accepted, and later won or lost.
    public var taken: Int { (outcomes[.accepted] ?? 0) + (outcomes[.won] ?? 0) + (outcomes[.lost] ?? 0) }
    public var acceptanceRate: Double? { handedOff == 0 ? nil : Double(taken) / Double(handedOff) }
    public var winRate: Double? { handedOff == 0 ? nil : Double(outcomes[.won] ?? 0) / Double(handedOff) }
    public var meanTimeToAccept: Double? { acceptCount == 0 ? nil : acceptSeconds / Double(acceptCount) }

    /// The sum over sequences (the table's total line).
    public static func total(_ rows: [HandoffStats]) -> HandoffStats {
        var t = HandoffStats(sequenceID: "all")
        for r in rows {
            t.handedOff += r.handedOff
            for (o, n) in r.outcomes { t.outcomes[o, default: 0] += n }
            t.awaiting += r.awaiting
            t.overdue += r.overdue
            t.acceptSeconds += r.acceptSeconds
            t.acceptCount += r.acceptCount
        }
        return t
    }
}
