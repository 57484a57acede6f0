import Foundation

public struct EnrollmentCandidate: Sendable {
    public var leadID: Int64
    public var lead: Lead
    public var suppressed: Bool
    /// The lead's latest enrollment in each sequence it was ever in: `ReentryPolicy` says whether it may come back.
    public var past: [String: PastEnrollment]

    public init(leadID: Int64, lead: Lead, suppressed: Bool, past: [String: PastEnrollment]) {
        self.leadID = leadID
        self.lead = lead
        self.suppressed = suppressed
        self.past = past
    }
}

public struct NewEnrollment: Sendable {
    public var leadID: Int64
    public var sequenceID: String
    public var firstStepID: String
    public var dueAt: Date
    /// The right-hand side of Message-IDs (the sender's domain).
    public var messageDomain: String
    /// When the first step is a `wait_for:`, its timeout.
    public var waitUntil: Date?
    /// The sequence version the enrollment starts under.
    public var version: String
    /// In the sequence's holdout: enrolled and counted, never mailed.
    public var holdout = false

    public init(leadID: Int64, sequenceID: String, firstStepID: String, dueAt: Date, messageDomain: String, waitUntil: Date? = nil,
                version: String = "") {
        self.leadID = leadID
        self.sequenceID = sequenceID
        self.firstStepID = firstStepID
        self.dueAt = dueAt
        self.messageDomain = messageDomain
        self.waitUntil = waitUntil
        self.version = version
    }

    /// The first step as a planned send.
    public var firstSend: PlannedSend {
        PlannedSend(stepID: firstStepID, dueAt: dueAt, messageDomain: messageDomain, waitUntil: waitUntil, version: version)
    }
}

/// A send that is due, with its lead, its enrollment's history and the lead's recent mail.
public struct DueSend: Sendable {
    public var outboxID: Int64
    public var enrollmentID: Int64
    public var leadID: Int64
    public var lead: Lead
    public var sequenceID: String
    public var stepID: String
    public var dueAt: Date
    public var attempts: Int
    public var messageID: String
    public var possiblySent: Bool
    public var firstAttemptAt: Date?
    public var enrolledAt: Date
    public var suppressed: Bool
    /// Steps of this enrollment already resolved (sent, skipped, cancelled, failed, passed).
    public var doneSteps: Set<String>
    /// How many times each step was resolved in this enrollment (a loop through a wait visits a step again).
    public var visits: [String: Int] = [:]
    /// A `wait_for:` row's timeout (nil for mail and branches).
    public var waitUntil: Date?
    /// The recipient paused nurture mail until then.
    public var pausedUntil: Date?
    /// The enrollment is in the sequence's holdout: its mail steps are skipped.
    public var holdout = false
    public var engagement: Engagement
    public var eventsSinceEnrollment: Set<String>
    /// The lead's sends (sent or in flight) since `recentSince`, across all sequences.
    public var recentSends: [Date]
    public var sendsSinceEngagement: Int

    public init(outboxID: Int64, enrollmentID: Int64, leadID: Int64, lead: Lead, sequenceID: String, stepID: String, dueAt: Date,
                attempts: Int, messageID: String, possiblySent: Bool, firstAttemptAt: Date?, enrolledAt: Date, suppressed: Bool, doneSteps: Set<String>,
                engagement: Engagement, eventsSinceEnrollment: Set<String>, recentSends: [Date], sendsSinceEngagement: Int) {
        self.outboxID = outboxID
        self.enrollmentID = enrollmentID
        self.leadID = leadID
        self.lead = lead
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.dueAt = dueAt
        self.attempts = attempts
        self.messageID = messageID
        self.possiblySent = possiblySent
        self.firstAttemptAt = firstAttemptAt
        self.enrolledAt = enrolledAt
        self.suppressed = suppressed
        self.doneSteps = doneSteps
        self.engagement = engagement
        self.eventsSinceEnrollment = eventsSinceEnrollment
        self.recentSends = recentSends
        self.sendsSinceEngagement = sendsSinceEngagement
    }
}

/// The next step to queue for an enrollment; nil in its place means the enrollment is complete.
public struct PlannedSend: Sendable, Hashable {
    public var stepID: String
    public var dueAt: Date
    public var messageDomain: String
    /// How many times the enrollment reaches this step, this time included (a loop through a wait comes back):
    /// each visit is its own outbox row, idempotency key and Message-ID.
    public var visit = 1
    /// A `wait_for:` step's timeout: the row is due then, or earlier when an event of the lead wakes it.
    public var waitUntil: Date?
    /// The sequence version (content hash) the step was planned under, recorded on the enrollment.
    public var version = ""

    public init(stepID: String, dueAt: Date, messageDomain: String, visit: Int = 1, waitUntil: Date? = nil, version: String = "") {
        self.stepID = stepID
        self.dueAt = dueAt
        self.messageDomain = messageDomain
        self.visit = visit
        self.waitUntil = waitUntil
        self.version = version
    }

    /// The outbox row's idempotency key: the first visit keeps the form it always had.
    public func key(enrollmentID: Int64) -> String { visit > 1 ? "\(enrollmentID):\(stepID):\(visit)" : "\(enrollmentID):\(stepID)" }
    /// The step as Message-IDs name it (`welcome`, then `welcome.2` on a second visit): never reused.
    public var messageStep: String { visit > 1 ? "\(stepID).\(visit)" : stepID }
}

public enum DispatchOutcome: Sendable {
    case postpone(outboxID: Int64, until: Date, reason: String)
    case skip(outboxID: Int64, enrollmentID: Int64, leadID: Int64, sequenceID: String, reason: String, next: PlannedSend?)
    /// A wait or branch decided (status `passed`): the enrollment goes on to `next` (nil: it completes).
    case pass(outboxID: Int64, enrollmentID: Int64, leadID: Int64, sequenceID: String, reason: String, next: PlannedSend?)
    /// Ends the enrollment (or, when `allOfLead`, every enrollment of the lead: hand-off, sunset, suppression).
    case exit(outboxID: Int64, enrollmentID: Int64, leadID: Int64, reason: String, handoff: Bool, allOfLead: Bool)
    case claim(outboxID: Int64)
}

public enum DeliveryOutcome: Sendable {
    /// `links`: the message's original link targets, kept for its click redirects.
    /// `variant`: the A/B variant the message went out as, for per-variant stats.
    case sent(outboxID: Int64, enrollmentID: Int64, leadID: Int64, sequenceID: String, stepID: String, reply: String, links: [String],
              next: PlannedSend?, variant: String? = nil)
    /// Temporary failure: try again at `retryAt`.
    case deferred(outboxID: Int64, retryAt: Date, error: String)
    /// Permanent failure; a hard bounce also suppresses the address and ends its enrollments, otherwise the
    /// enrollment moves on to `next`.
    case failed(outboxID: Int64, enrollmentID: Int64, leadID: Int64, sequenceID: String, error: String, hardBounce: Bool,
                next: PlannedSend?)
}

public struct NewEvent: Sendable {
    public var email: EmailAddress
    public var type: String
    public var sequenceID: String?
    public var stepID: String?
    public var outboxID: Int64?
    public var machine: Bool
    public var at: Date
    /// A number the event carries (an NPS answer's score), kept in the event's data.
    public var value: Double?
    /// The sequences whose goal this event reaches, each with the earliest enrollment time that still counts
    /// (`GoalPolicy`): the store credits the conversion to the last step sent before it, in the same transaction.
    public var goals: [GoalWindow] = []

    public init(email: EmailAddress, type: String, sequenceID: String? = nil, stepID: String? = nil, outboxID: Int64? = nil,
                machine: Bool = false, at: Date) {
        self.email = email
        self.type = type
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.outboxID = outboxID
        self.machine = machine
        self.at = at
    }
}

public struct ActiveEnrollment: Sendable, Hashable {
    public var enrollmentID: Int64
    public var leadID: Int64
    public var sequenceID: String
    public var enrolledAt: Date
    public var leadScore: Double
    public var eventsSinceEnrollment: Set<String>
    /// Score, fit, stage and grade after the event, for exit rules' `when:` (nil when the event left no score).
    public var facts: LeadCondition.Facts?

    public init(enrollmentID: Int64, leadID: Int64, sequenceID: String, enrolledAt: Date, leadScore: Double, eventsSinceEnrollment: Set<String>) {
        self.enrollmentID = enrollmentID
        self.leadID = leadID
        self.sequenceID = sequenceID
        self.enrolledAt = enrolledAt
        self.leadScore = leadScore
        self.eventsSinceEnrollment = eventsSinceEnrollment
    }
}

public struct EnrollmentEnd: Sendable, Hashable {
    public var enrollmentID: Int64
    public var leadID: Int64
    public var reason: String
    public var handoff: Bool
    /// End every active enrollment of the lead, not only this one.
    public var allOfLead: Bool
    /// A hand-off by exit rule (`then: handoff`): the channels sales is told on, and when an unanswered one is
    /// overdue; both from the scoring context, as a threshold's hand-off has.
    public var handoffChannels: [String]
    public var handoffDueAt: Date?

    public init(enrollmentID: Int64, leadID: Int64, reason: String, handoff: Bool, allOfLead: Bool, handoffChannels: [String] = [],
                handoffDueAt: Date? = nil) {
        self.enrollmentID = enrollmentID
        self.leadID = leadID
        self.reason = reason
        self.handoff = handoff
        self.allOfLead = allOfLead
        self.handoffChannels = handoffChannels
        self.handoffDueAt = handoffDueAt
    }
}
