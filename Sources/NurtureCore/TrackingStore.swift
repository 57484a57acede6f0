import Foundation

/// What the HTTP side needs from storage: the sent message a token names, engagement events, unsubscribes.
/// Async because the HTTP server must never block Swift's cooperative threads on SQLite.
public protocol TrackingStore: Sendable {
    /// The message an outbox id names, if it exists and was (or is being) sent.
    func trackedMessage(_ outboxID: Int64) async throws -> TrackedMessage?
    /// Records opens and clicks in one transaction (group commit). A click that completes a burst on every link
    /// of its message within `burstWindow` flags the burst's clicks as machine ones. Returns each item's final
    /// machine flag.
    func recordEngagements(_ items: [TrackedEvent], burstWindow: TimeInterval, scoring: ScoringContext) async throws -> [Bool]
    /// Records opens and clicks in one transaction (group commit), in order. An open names its message by outbox id
    /// and the message is resolved inside the write, so a pixel costs no read of its own; an open of a message that
    /// does not exist, or was never sent, records nothing and yields nil. Otherwise each item's final machine flag:
    /// `MachineSignals.open` judges an open against its message's send time, bursts are judged as for
    /// `recordEngagements` within `policy.burstWindow`.
    func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext) async throws -> [Bool?]
    /// Suppresses the message's address for every sequence, ends its enrollments and cancels its queued sends,
    /// committed durably before returning. Idempotent.
    func unsubscribe(outboxID: Int64, at: Date, via: String, scoring: ScoringContext) async throws -> UnsubscribeResult
    /// The database answers a query.
    func isReachable() async -> Bool
    /// Outbox rows by status, for metrics.
    func outboxDepth() async throws -> [String: Int]
}

/// A sent message as the tracking endpoints see it.
public struct TrackedMessage: Sendable, Hashable {
    public var outboxID: Int64
    public var leadID: Int64
    public var email: EmailAddress
    public var firstName: String?
    public var locale: String?
    public var sequenceID: String
    public var stepID: String
    public var sentAt: Date?
    /// The message's original link targets, by the index its `/c/` tokens carry.
    public var links: [String]
    public var suppressed: Bool

    public init(outboxID: Int64, leadID: Int64, email: EmailAddress, firstName: String?, locale: String?, sequenceID: String,
                stepID: String, sentAt: Date?, links: [String], suppressed: Bool) {
        self.outboxID = outboxID
        self.leadID = leadID
        self.email = email
        self.firstName = firstName
        self.locale = locale
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.sentAt = sentAt
        self.links = links
        self.suppressed = suppressed
    }
}

/// An open or a click to record, from the tracking endpoints.
public struct TrackedEvent: Sendable, Hashable {
    public enum Kind: String, Sendable { case open, click }
    public var kind: Kind
    public var message: TrackedMessage
    public var link: Int?
    public var at: Date
    /// Why it is taken for a machine's, or nil for a person's.
    public var machineReason: String?

    public init(kind: Kind, message: TrackedMessage, link: Int? = nil, at: Date, machineReason: String?) {
        self.kind = kind
        self.message = message
        self.link = link
        self.at = at
        self.machineReason = machineReason
    }
}

/// A hit on the open pixel or on a link, for the next batched write.
public enum TrackedHit: Sendable, Hashable {
    /// The pixel of the message `outboxID` names; `head` for a HEAD request (a machine's).
    case open(outboxID: Int64, at: Date, userAgent: String?, head: Bool)
    /// An event whose message the caller has read already (a click needs its link before it answers).
    case event(TrackedEvent)
}

public enum UnsubscribeResult: Sendable, Hashable {
    case unsubscribed
    case alreadyUnsubscribed
    case unknownMessage
}
