/// How many leads are stored and how many addresses may never be mailed, by reason: the list's size at a glance,
/// beside the per-sequence figures of `nurture stats`.
public struct StoreTotals: Sendable, Hashable {
    public var leads: Int
    /// Suppressed addresses per reason (unsubscribed, bounced, complained, erased).
    public var suppressed: [String: Int]

    public var suppressedTotal: Int { suppressed.values.reduce(0, +) }

    public init(leads: Int, suppressed: [String: Int]) {
        self.leads = leads
        self.suppressed = suppressed
    }
}
