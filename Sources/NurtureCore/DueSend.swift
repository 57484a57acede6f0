import Foundation

public struct EnrollmentCandidate: Sendable {
    public var leadID: Int64
    public var lead: Lead
    public var suppressed: Bool
    /// Sequences the lead was ever enrolled in (never re-entered).
    public var enrolledIn: Set<String>

    public init(leadID: Int64, lead: Lead, suppressed: Bool, enrolledIn: Set<String>) {
        self.leadID = leadID
        self.lead = lead
        self.suppressed = suppressed
        self.enrolledIn = enrolledIn
    }
}

public struct NewEnrollment: Sendable {
    public var leadID: Int64
    public var sequenceID: String
    public var firstStepID: String
    public var dueAt: Date
    /// The right-hand side of Message-IDs (the sender's domain).
    public var messageDomain: String

    public init(leadID: Int64, sequenceID: String, firstStepID: String, dueAt: Date, messageDomain: String) {
        self.leadID = leadID
        self.sequenceID = sequenceID
        self.firstStepID = firstStepID
        self.dueAt = dueAt
        self.messageDomain = messageDomain
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
    /// Steps of this enrollment already resolved (sent, skipped, cancelled, failed).
    public var doneSteps: Set<String>
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

    public init(stepID: String, dueAt: Date, messageDomain: String) {
        self.stepID = stepID
        self.dueAt = dueAt
        self.messageDomain = messageDomain
    }
}

public enum DispatchOutcome: Sendable {
    case postpone(outboxID: Int64, until: Date, reason: String)
    case skip(outboxID: Int64, enrollmentID: Int64, leadID: Int64, sequenceID: String, reason: String, next: PlannedSend?)
    /// Ends the enrollment (or, when `allOfLead`, every enrollment of the lead: hand-off, sunset, suppression).
    case exit(outboxID: Int64, enrollmentID: Int64, leadID: Int64, reason: String, handoff: Bool, allOfLead: Bool)
    case claim(outboxID: Int64)
}

public enum DeliveryOutcome: Sendable {
    /// `links`: the message's original link targets, kept for its click redirects.
    case sent(outboxID: Int64, enrollmentID: Int64, leadID: Int64, sequenceID: String, stepID: String, reply: String, links: [String],
              next: PlannedSend?)
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

    public init(enrollmentID: Int64, leadID: Int64, reason: String, handoff: Bool, allOfLead: Bool) {
        self.enrollmentID = enrollmentID
        self.leadID = leadID
        self.reason = reason
        self.handoff = handoff
        self.allOfLead = allOfLead
    }
}
