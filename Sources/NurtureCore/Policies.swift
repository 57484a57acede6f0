/// Fatigue and rate limits: too many emails and the lead unsubscribes, too few and the lead forgets.
public struct ThrottlePolicy: Hashable, Sendable {
    /// Minimum time between two nurture emails to one lead, across all its sequences.
    public var minGap: TimeSpan
    /// At most `maxCount` emails to one lead in any rolling `maxWindow`.
    public var maxCount: Int
    public var maxWindow: TimeSpan
    /// Global send rate (messages per second) for the whole daemon.
    public var globalRate: Double
    /// Per recipient-domain rate (messages per second) and simultaneous transfers.
    public var domainRate: Double
    public var domainConcurrency: Int
    /// A lead that received this many emails with no human open or click leaves nurturing.
    public var sunsetAfter: Int
    /// A step overdue by more than this is skipped, not sent late.
    public var staleAfter: TimeSpan

    public init(minGap: TimeSpan = .days(2), maxCount: Int = 3, maxWindow: TimeSpan = .days(7),
                globalRate: Double = 20, domainRate: Double = 5, domainConcurrency: Int = 2,
                sunsetAfter: Int = 6, staleAfter: TimeSpan = .days(3)) {
        self.minGap = minGap
        self.maxCount = maxCount
        self.maxWindow = maxWindow
        self.globalRate = globalRate
        self.domainRate = domainRate
        self.domainConcurrency = domainConcurrency
        self.sunsetAfter = sunsetAfter
        self.staleAfter = staleAfter
    }
}

/// How events turn into a lead score, and what crossing a threshold does.
public struct ScoringRules: Hashable, Sendable {
    /// Points per event type (`open`, `machine_open`, `click`, `machine_click`, `unsubscribe`, `bounce`, custom names).
    public var points: [String: Double]
    /// Scores halve over this span when nothing happens; nil disables decay.
    public var halfLife: TimeSpan?
    public var thresholds: [ScoreThreshold]
    /// A lead with no human open, click or custom event for this long is charged `points["inactivity"]` once
    /// per such silence; nil disables it.
    public var inactiveAfter: TimeSpan? = .days(60)
    /// `scoring.fit`: points from who the lead is (fields, address domain), kept apart from the engagement score.
    public var fit = FitRules()

    public init(points: [String: Double] = ScoringRules.defaultPoints, halfLife: TimeSpan? = .days(30),
                thresholds: [ScoreThreshold] = []) {
        self.points = points
        self.halfLife = halfLife
        self.thresholds = thresholds
    }

    public static let defaultPoints: [String: Double] = [
        "open": 1, "machine_open": 0, "click": 5, "machine_click": 0,
        "unsubscribe": -50, "bounce": -20, "inactivity": -10, "sequence_left": -10, "paused": -5,
        "replied": 15, "complaint": -100, "soft_bounce": 0, "auto_reply": 0,
        // After the sale: what makes a customer an ambassador.
        "referred": 30, "reviewed": 20, "nps_promoter": 20, "nps_passive": 0, "nps_detractor": -10,
    ]
}

/// A score level that moves a lead's stage, hands it to sales, or enrolls it elsewhere; `hysteresis` stops flapping.
public struct ScoreThreshold: Hashable, Sendable {
    public var at: Double
    public var stage: LifecycleStage?
    public var handoff: Bool
    public var enroll: String?
    /// The score must fall this far below `at` before the threshold can fire again.
    public var hysteresis: Double
    /// `when:` beyond `at` (e.g. `fit >= 20 and stage == customer`): the threshold fires only while it also holds.
    public var when: LeadCondition?

    public init(at: Double, stage: LifecycleStage? = nil, handoff: Bool = false, enroll: String? = nil, hysteresis: Double = 0,
                when: LeadCondition? = nil) {
        self.when = when
        self.at = at
        self.stage = stage
        self.handoff = handoff
        self.enroll = enroll
        self.hysteresis = hysteresis
    }
}

/// Where a lead stands in the funnel: target → lead → client → ambassador (the seeds' funnel), plus `disqualified`
/// for a lead sales rejected, which no score threshold moves on.
public enum LifecycleStage: String, CaseIterable, Hashable, Sendable, Codable {
    case lead
    case mql
    case sql
    case customer
    case ambassador
    case disqualified

    /// Stages still being sold to: a sequence with no `entry.stage` admits only these, so a customer never gets
    /// prospect mail again.
    public static let prospects: Set<LifecycleStage> = [.lead, .mql, .sql]
}
