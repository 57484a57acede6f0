import Foundation

public enum UpsertOutcome: String, Sendable, Hashable {
    case inserted, updated, unchanged
    /// On the suppression list (unsubscribed, bounced, erased): never stored again.
    case suppressed
}

/// A lead as stored, with what the engine knows about it.
public struct StoredLead: Sendable, Hashable {
    public var id: Int64
    public var lead: Lead
    public var createdAt: Date
    public var updatedAt: Date
    public var enrollments: [EnrollmentSummary]
    public var events: [EventSummary]
    public var ledger: [LedgerEntry]
    /// The lead's outbox rows, latest first: what was sent, skipped or postponed, and why.
    public var sends: [SendSummary]
    /// Why the address is on the suppression list (unsubscribed, bounced, complained), or nil: an operator asks "will
    /// this lead get mail?" before anything else.
    public var suppression: String?
    /// Hand-offs to sales and what sales answered, oldest first.
    public var handoffs: [HandoffSummary] = []
    /// The recipient paused nurture mail until then (the unsubscribe page).
    public var pausedUntil: Date?
    /// What the recipient chose after consenting (unsubscribe, a sequence left, a pause), oldest first.
    public var consentHistory: [ConsentRecord] = []

    public init(id: Int64, lead: Lead, createdAt: Date, updatedAt: Date,
                enrollments: [EnrollmentSummary] = [], events: [EventSummary] = [], ledger: [LedgerEntry] = [], sends: [SendSummary] = [],
                suppression: String? = nil) {
        self.id = id
        self.lead = lead
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.enrollments = enrollments
        self.events = events
        self.ledger = ledger
        self.sends = sends
        self.suppression = suppression
    }
}

/// One of the recipient's choices about their mail, with its time: the consent history.
public struct ConsentRecord: Sendable, Hashable {
    /// `unsubscribe`, `sequence_left` or `paused`.
    public var type: String
    public var sequenceID: String?
    public var at: Date
    /// Where it was chosen (`one-click`, `unsubscribe page`, a reply…).
    public var via: String?
    /// A pause's end, as recorded.
    public var until: String?

    public init(type: String, sequenceID: String?, at: Date, via: String?, until: String?) {
        self.type = type
        self.sequenceID = sequenceID
        self.at = at
        self.via = via
        self.until = until
    }
}

public struct SendSummary: Sendable, Hashable {
    /// The outbox id logs and metrics name.
    public var outboxID: Int64
    public var sequenceID: String
    public var stepID: String
    public var status: OutboxStatus
    public var dueAt: Date
    public var sentAt: Date?
    public var attempts: Int
    /// Why it was skipped, cancelled or postponed; or the last error.
    public var reason: String?
    public var reply: String?
    /// In flight when a daemon stopped (a crash, or a stall abandoned at shutdown) and retried: it may arrive twice.
    public var possiblySent: Bool

    public init(outboxID: Int64, sequenceID: String, stepID: String, status: OutboxStatus, dueAt: Date, sentAt: Date?, attempts: Int,
                reason: String?, reply: String?, possiblySent: Bool = false) {
        self.outboxID = outboxID
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.status = status
        self.dueAt = dueAt
        self.sentAt = sentAt
        self.attempts = attempts
        self.reason = reason
        self.reply = reply
        self.possiblySent = possiblySent
    }
}

public struct EnrollmentSummary: Sendable, Hashable {
    public var sequenceID: String
    public var state: EnrollmentState
    public var nextStep: String?
    public var enrolledAt: Date
    public var endedAt: Date?
    public var endReason: String?
    /// The sequence version (content hash) its latest step was planned under.
    public var version: String?

    public init(sequenceID: String, state: EnrollmentState, nextStep: String?, enrolledAt: Date, endedAt: Date?, endReason: String?) {
        self.sequenceID = sequenceID
        self.state = state
        self.nextStep = nextStep
        self.enrolledAt = enrolledAt
        self.endedAt = endedAt
        self.endReason = endReason
    }
}

public struct EventSummary: Sendable, Hashable {
    public var type: String
    public var sequenceID: String?
    public var stepID: String?
    public var machine: Bool
    public var at: Date
    /// The index of the clicked link in its message.
    public var link: Int?
    /// Why the event was judged a machine's (a prefetch, a scanner's user agent, a burst).
    public var machineReason: String?
    /// A replay of an open or click already scored: stored, not scored again.
    public var isRepeat: Bool
    /// What an inbound message said: a bounce's status and diagnostic, a complaint's type, a reply's subject.
    public var detail: String?

    public init(type: String, sequenceID: String?, stepID: String?, machine: Bool, at: Date, link: Int? = nil, machineReason: String? = nil,
                isRepeat: Bool = false, detail: String? = nil) {
        self.detail = detail
        self.type = type
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.machine = machine
        self.at = at
        self.link = link
        self.machineReason = machineReason
        self.isRepeat = isRepeat
    }
}

/// One score change and why it happened, so `lead show` can explain a score.
public struct LedgerEntry: Sendable, Hashable {
    public var at: Date
    public var delta: Double
    /// The engagement score after the line, or the fit score after it for a fit line.
    public var scoreAfter: Double
    public var cause: String
    /// `engagement` or `fit`.
    public var kind: String

    public init(at: Date, delta: Double, scoreAfter: Double, cause: String, kind: String = "engagement") {
        self.at = at
        self.delta = delta
        self.scoreAfter = scoreAfter
        self.cause = cause
        self.kind = kind
    }
}

/// One hand-off row of a lead: the crossing (or its reminder) told on one channel, and sales' answer.
public struct HandoffSummary: Sendable, Hashable {
    /// The id sales answers (`X-Nurture-Delivery`); `crossing` is the hand-off it belongs to.
    public var id: Int64
    public var crossing: Int64?
    public var channel: String
    public var status: String
    public var attempts: Int
    public var lastError: String?
    public var createdAt: Date
    public var deliveredAt: Date?
    public var reminder: Bool
    public var slaDueAt: Date?
    public var outcome: HandoffOutcome?
    public var outcomeReason: String?
    public var answeredAt: Date?
    public var sequenceID: String?

    public init(id: Int64, crossing: Int64?, channel: String, status: String, attempts: Int, lastError: String?, createdAt: Date,
                deliveredAt: Date?, reminder: Bool, slaDueAt: Date?, outcome: HandoffOutcome?, outcomeReason: String?, answeredAt: Date?,
                sequenceID: String?) {
        self.id = id
        self.crossing = crossing
        self.channel = channel
        self.status = status
        self.attempts = attempts
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.reminder = reminder
        self.slaDueAt = slaDueAt
        self.outcome = outcome
        self.outcomeReason = outcomeReason
        self.answeredAt = answeredAt
        self.sequenceID = sequenceID
    }
}

extension HandoffSummary {
    /// As the GDPR export and the API show it.
    public var document: [String: Any] {
        func iso(_ d: Date?) -> Any { d.map(DateText.iso) ?? NSNull() }
        return ["id": id, "handoff": crossing as Any? ?? NSNull(), "channel": channel, "status": status, "attempts": attempts,
                "last_error": lastError as Any? ?? NSNull(), "created_at": iso(createdAt), "delivered_at": iso(deliveredAt),
                "reminder": reminder, "sla_due_at": iso(slaDueAt), "outcome": outcome?.rawValue as Any? ?? NSNull(),
                "outcome_reason": outcomeReason as Any? ?? NSNull(), "answered_at": iso(answeredAt), "sequence": sequenceID as Any? ?? NSNull()]
    }
}
