import Foundation

/// What sales answered about a hand-off (`POST /api/v1/handoffs/{id}`, `nurture handoff set`).
public enum HandoffOutcome: String, CaseIterable, Hashable, Sendable, Codable {
    case accepted, rejected, recycled, won, lost
}

/// `handoff.outcomes.OUTCOME`: what an answer does to the lead. Every field is optional in YAML; `defaults` says
/// what an unconfigured outcome does.
public struct HandoffOutcomeRule: Hashable, Sendable {
    /// The stage the lead moves to (explicitly: the one way a stage goes back); nil leaves it.
    public var stage: LifecycleStage?
    /// A sequence the lead (re-)enters, `after` the answer (a cooldown).
    public var enroll: String?
    public var after: TimeSpan
    /// The engagement score starts again from zero (and every threshold re-arms).
    public var resetScore: Bool
    /// Ends every active enrollment of the lead (the prospect sequences) before any `enroll`.
    public var stopNurturing: Bool

    public init(stage: LifecycleStage? = nil, enroll: String? = nil, after: TimeSpan = .zero, resetScore: Bool = false,
                stopNurturing: Bool = true) {
        self.stage = stage
        self.enroll = enroll
        self.after = after
        self.resetScore = resetScore
        self.stopNurturing = stopNurturing
    }

    /// accepted → sql; rejected → disqualified; recycled → lead; won → customer; lost → lead. None enrolls.
    public static func defaults(for outcome: HandoffOutcome) -> HandoffOutcomeRule {
        switch outcome {
        case .accepted: HandoffOutcomeRule(stage: .sql)
        case .rejected: HandoffOutcomeRule(stage: .disqualified)
        case .recycled: HandoffOutcomeRule(stage: .lead)
        case .won: HandoffOutcomeRule(stage: .customer)
        case .lost: HandoffOutcomeRule(stage: .lead)
        }
    }

    public static var allDefaults: [HandoffOutcome: HandoffOutcomeRule] {
        Dictionary(uniqueKeysWithValues: HandoffOutcome.allCases.map { ($0, defaults(for: $0)) })
    }
}

/// `handoff.sla`: how long sales has to answer before the hand-off is re-notified and shown overdue, counted on
/// the sales team's calendar (business days in its time zone, holidays excluded).
public struct HandoffSLA: Hashable, Sendable {
    public enum Span: Hashable, Sendable {
        /// Plain elapsed time (`48h`).
        case elapsed(TimeSpan)
        /// `N business days`: the same wall-clock time N working days later.
        case businessDays(Int)
    }

    public var span: Span
    /// IANA zone of the sales team (`handoff.time_zone`, else the config's default).
    public var timeZone: String
    /// Working days (Monday to Friday unless configured).
    public var workdays: Set<Weekday>
    /// `YYYY-MM-DD` dates that are not working days (`handoff.holidays`).
    public var holidays: Set<String>

    public init(span: Span, timeZone: String, workdays: Set<Weekday> = [.mon, .tue, .wed, .thu, .fri],
                holidays: Set<String> = []) {
        self.span = span
        self.timeZone = timeZone
        self.workdays = workdays
        self.holidays = holidays
    }
}

extension HandoffSLA {
    /// When a hand-off made at `start` becomes overdue. Implemented in `HandoffSLA+Deadline.swift`.
    public func deadline(after start: Date) -> Date { BusinessCalendar.deadline(self, after: start) }
}
