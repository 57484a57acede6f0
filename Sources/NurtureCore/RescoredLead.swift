/// A lead whose score or stage a rescore changed, for `nurture rescore`'s report.
public struct RescoredLead: Sendable, Hashable {
    public var email: String
    public var before: Double
    public var after: Double
    public var stageBefore: String
    public var stageAfter: String
    /// Set when the fit rules changed the lead's fit score.
    public var fitBefore: Double?
    public var fitAfter: Double?

    public init(email: String, before: Double, after: Double, stageBefore: String, stageAfter: String) {
        self.email = email
        self.before = before
        self.after = after
        self.stageBefore = stageBefore
        self.stageAfter = stageAfter
    }
}
