import Foundation
import NurtureCore

/// What the hand-off sender (HandoffService) needs: the hand-off outbox, whose rows are committed with the
/// threshold crossing, and the lead each one is about.
public protocol HandoffStore: Sendable {
    /// The lead as stored now (nil once erased: nothing is left to tell sales).
    func lead(_ email: EmailAddress) async throws -> StoredLead?
    func dueHandoffs(at now: Date, limit: Int) async throws -> [PendingHandoff]
    func handoffDelivered(_ id: Int64, at: Date) async throws
    func handoffFailed(_ id: Int64, error: String, retryAt: Date) async throws
    /// The earliest pending attempt, so the loop can sleep until then.
    func nextHandoffAt() async throws -> Date?
    /// Queues one reminder per channel (`channels`, else the hand-off's own) for each unanswered hand-off past its
    /// SLA that was not re-notified yet, and marks it re-notified, in one transaction. Returns how many.
    func queueReminders(at now: Date, channels: [String]?, limit: Int) async throws -> Int
    /// Hand-offs per sequence and sales' answers (`nurture_handoffs` on `/metrics`).
    func handoffStats(now: Date) async throws -> [HandoffStats]
    /// A reply to forward (channel `reply`): the copy kept with the inbound message; nil once dropped or erased.
    func inboundMessage(_ id: Int64) async throws -> [UInt8]?
}

public struct PendingHandoff: Sendable, Hashable {
    public var id: Int64
    public var leadID: Int64
    public var email: EmailAddress
    /// `webhook`, `email`, or `reply` (a lead's reply forwarded to `handoff.email`).
    public var channel: String
    public var score: Double
    public var attempts: Int
    public var createdAt: Date
    /// The inbound message a `reply` row forwards.
    public var inboundID: Int64?
    /// The hand-off this row tells (its first row's id: what sales answers); nil for a forwarded reply.
    public var crossing: Int64?
    /// A re-notification of an unanswered hand-off past its SLA.
    public var reminder = false
    public var slaDueAt: Date?

    public init(id: Int64, leadID: Int64, email: EmailAddress, channel: String, score: Double, attempts: Int, createdAt: Date,
                inboundID: Int64? = nil) {
        self.inboundID = inboundID
        self.id = id
        self.leadID = leadID
        self.email = email
        self.channel = channel
        self.score = score
        self.attempts = attempts
        self.createdAt = createdAt
    }
}
