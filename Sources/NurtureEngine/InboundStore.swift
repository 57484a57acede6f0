import Foundation
import NurtureCore

/// What reading inbound mail back (InboundProcessor: `nurture inbound`, the IMAP poller) needs from storage.
public protocol InboundStore: EventStore {
    /// Whether a message with this key was already recorded: an MTA's retry or a re-fetch after a crash changes nothing.
    func inboundSeen(_ key: String) async throws -> Bool
    /// The lead and step of the message we sent under this outbox id (VERP); nil when unknown or erased.
    func inboundTarget(outboxID: Int64) async throws -> InboundTarget?
    /// The same, by one of our Message-IDs (`<…>` as sent).
    func inboundTarget(messageID: String) async throws -> InboundTarget?
    /// The lead with this address, for a reply that kept none of our Message-IDs.
    func inboundTarget(email: EmailAddress) async throws -> InboundTarget?
    /// Records the message and applies its effect in one durable transaction; a reply to forward queues it on the
    /// hand-off outbox in the same transaction. Returns nil when the key was already recorded (nothing changed),
    /// else the enrollments the event found active, judged with the new score, for exit rules.
    func recordInbound(_ message: InboundRecord, effect: InboundEffect, target: InboundTarget?, forward: Bool,
                       scoring: ScoringContext) async throws -> [ActiveEnrollment]?
    /// Messages per outcome, for `stats` and `/metrics`.
    func inboundCounts() async throws -> [InboundOutcome: Int]
    /// Kept-aside messages, newest first.
    func quarantined(limit: Int) async throws -> [QuarantinedMessage]
    /// A kept copy (a quarantined message, a reply to forward); nil once dropped for the size cap or erased.
    func inboundMessage(_ id: Int64) async throws -> [UInt8]?
}

/// One inbound message as recorded: its outcome, why, and the copy kept (quarantined ones, replies to forward).
public struct InboundRecord: Sendable, Hashable {
    /// SHA-256 of its Message-ID, or of its bytes when it has none.
    public var key: String
    /// `pipe`, or `imap:HOST/FOLDER`.
    public var source: String
    public var receivedAt: Date
    public var outcome: InboundOutcome
    public var reason: String?
    public var size: Int
    /// The message kept, when it is; capped by `keepLimit` in all (oldest copies dropped first).
    public var copy: [UInt8]?
    public var keepLimit: Int
    /// Stored with the event (`{"status":…,"diagnostic":…}`) for `lead show` and the export.
    public var detail: [String: String]
    /// The From address's key: erasing that address deletes the message (kept copies hold personal data).
    public var senderKey: String?

    public init(key: String, source: String, receivedAt: Date, outcome: InboundOutcome, reason: String?, size: Int,
                copy: [UInt8]?, keepLimit: Int, detail: [String: String] = [:], senderKey: String? = nil) {
        self.senderKey = senderKey
        self.key = key
        self.source = source
        self.receivedAt = receivedAt
        self.outcome = outcome
        self.reason = reason
        self.size = size
        self.copy = copy
        self.keepLimit = keepLimit
        self.detail = detail
    }
}

/// A kept-aside message as `nurture inbound quarantine` lists it.
public struct QuarantinedMessage: Sendable, Hashable {
    public var id: Int64
    public var receivedAt: Date
    public var source: String
    public var reason: String
    public var size: Int
    /// Whether the copy is still kept (the size cap drops the oldest).
    public var kept: Bool

    public init(id: Int64, receivedAt: Date, source: String, reason: String, size: Int, kept: Bool) {
        self.id = id
        self.receivedAt = receivedAt
        self.source = source
        self.reason = reason
        self.size = size
        self.kept = kept
    }
}
