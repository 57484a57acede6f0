import Crypto
import Foundation
import Logging
import NurtureAuthoring
import NurtureCore
import NurtureMail
import NurtureSigning

/// The one path of every inbound message, piped by an MTA or fetched over IMAP: classify, match it to the message
/// we sent (VERP, envelope id, Message-ID) or to a lead, let the core decide, record it all in one transaction.
/// Processing the same message twice changes nothing; a message that cannot be understood is kept aside.
public struct InboundProcessor: Sendable {
    let store: InboundStore
    let catalog: CatalogHolder
    let signer: TokenSigner
    let clock: NurtureClock
    let logger: Logger

    public init(store: InboundStore, catalog: CatalogHolder, signer: TokenSigner, clock: NurtureClock, logger: Logger) {
        self.store = store
        self.catalog = catalog
        self.signer = signer
        self.clock = clock
        self.logger = logger
    }

    /// What became of one message.
    public struct Result: Sendable, Equatable {
        public var outcome: InboundOutcome
        /// Already recorded earlier: nothing changed this time.
        public var duplicate: Bool
        public var reason: String?
        public var leadID: Int64?
    }

    /// - Parameters:
    ///   - size: the message's full size when `bytes` was cut at `inbound.max_message_size` (pipe mode stops reading there).
    /// - Throws: `InboundFormatError` for input that is no message at all; store errors when it could not be recorded.
    public func process(_ bytes: [UInt8], size: Int? = nil, source: String, envelopeRecipient: String? = nil) async throws -> Result {
        let catalog = self.catalog.current
        let settings = catalog.config.inbound
        let now = clock.now()
        let total = max(size ?? bytes.count, bytes.count)
        if total > settings.maxMessageSize {
            let head = Self.headerSection(bytes)
            let report = try InboundClassifier.classify(head, envelopeRecipient: envelopeRecipient)
            let reason = "message of \(total) bytes is over inbound.max_message_size (\(settings.maxMessageSize)): headers kept"
            return try await keepAside(head, size: total, key: Self.key(report.messageID, head), reason: reason, source: source, now: now,
                                       sender: report.from)
        }
        let report = try InboundClassifier.classify(bytes, envelopeRecipient: envelopeRecipient)
        let key = Self.key(report.messageID, bytes)
        if try await store.inboundSeen(key) { return Result(outcome: .ignored, duplicate: true, reason: "already processed", leadID: nil) }
        let signal: InboundSignal
        var detail: [String: String] = [:]
        switch report.kind {
        case let .unclassified(reason):
            return try await keepAside(bytes, size: total, key: key, reason: reason, source: source, now: now, sender: report.from)
        case let .bounce(permanent, status, diagnostic, _):
            signal = .bounce(permanent: permanent, status: status, diagnostic: diagnostic)
            detail["status"] = status
            if let diagnostic { detail["diagnostic"] = String(diagnostic.prefix(500)) }
        case let .complaint(type):
            signal = .complaint(feedbackType: type)
            detail["feedback_type"] = type
        case let .autoReply(outOfOffice):
            signal = .autoReply(outOfOffice: outOfOffice)
            if outOfOffice { detail["out_of_office"] = "true" }
        case .reply:
            signal = .reply
        }
        let target = try await match(report, signal: signal)
        let (outcome, effect, reason) = InboundEffect.decide(signal, target: target, policy: settings.policy, now: now)
        let forward = outcome == .reply && settings.policy.forwardReplies && catalog.config.handoff.email != nil
        if let subject = report.subject, outcome == .reply || outcome == .autoReply { detail["subject"] = String(subject.prefix(200)) }
        let keep = outcome == .quarantined || forward
        let record = InboundRecord(key: key, source: source, receivedAt: now, outcome: outcome, reason: reason, size: total,
                                   copy: keep ? bytes : nil, keepLimit: settings.quarantineLimit, detail: detail,
                                   senderKey: report.from?.key)
        guard let active = try await store.recordInbound(record, effect: effect, target: outcome == .quarantined ? nil : target,
                                                         forward: forward, scoring: catalog.scoringContext) else {
            return Result(outcome: outcome, duplicate: true, reason: "already processed", leadID: nil)
        }
        let ends = EventRecorder.exitRuleEnds(active, catalog: catalog, at: now)
        if !ends.isEmpty { try await store.endEnrollments(ends, now: now) }
        let leadID = outcome == .quarantined || outcome == .ignored ? nil : target?.leadID
        let line = "inbound \(source): \(outcome.rawValue)" + (leadID.map { " lead=\($0)" } ?? "") + (target?.outboxID.map { " outbox=\($0)" } ?? "")
            + (reason.map { " (\(LogRedaction.addresses($0)))" } ?? "")
        logger.info("\(line)")
        return Result(outcome: outcome, duplicate: false, reason: reason, leadID: leadID)
    }

    /// The message we sent that a report names, or the lead a reply comes from. Reports match only by our own
    /// handles (a signed VERP address, an envelope id, a Message-ID), never by an address they merely mention.
    func match(_ report: InboundReport, signal: InboundSignal) async throws -> InboundTarget? {
        for address in report.addresses {
            if let id = signer.verifyVERP(address), let t = try await store.inboundTarget(outboxID: id) { return t }
        }
        for envelopeID in report.envelopeIDs {
            if let id = signer.verifyVERP(envelopeID), let t = try await store.inboundTarget(outboxID: id) { return t }
            if let t = try await store.inboundTarget(messageID: Self.bracketed(envelopeID)) { return t }
        }
        var byMessage: InboundTarget?
        for id in report.referencedMessageIDs {
            if let t = try await store.inboundTarget(messageID: id) { byMessage = t; break }
        }
        switch signal {
        case .bounce, .complaint:
            return byMessage
        case .autoReply, .reply:
            // A reply is the writer's: when it comes from another lead than the one we mailed (a colleague answering a
            // forwarded message), it is that lead's, not the addressee's.
            guard let from = report.from else { return byMessage }
            if let message = byMessage, message.email == from { return message }
            if let lead = try await store.inboundTarget(email: from) { return lead }
            return byMessage
        }
    }

    /// Keeps a message aside with its reason (a copy within the cap).
    public func keepAside(_ bytes: [UInt8], size: Int, key: String, reason: String, source: String, now: Date,
                          sender: EmailAddress? = nil) async throws -> Result {
        if try await store.inboundSeen(key) { return Result(outcome: .quarantined, duplicate: true, reason: "already processed", leadID: nil) }
        let limit = catalog.current.config.inbound.quarantineLimit
        let record = InboundRecord(key: key, source: source, receivedAt: now, outcome: .quarantined, reason: reason, size: size,
                                   copy: bytes, keepLimit: limit, senderKey: sender?.key)
        let recorded = try await store.recordInbound(record, effect: .none, target: nil, forward: false, scoring: catalog.current.scoringContext)
        logger.notice("inbound \(source): kept aside (\(LogRedaction.addresses(reason)))")
        return Result(outcome: .quarantined, duplicate: recorded == nil, reason: reason, leadID: nil)
    }

    /// Counts a message once across retries, re-fetches and mailboxes: by its Message-ID, else by its bytes.
    public static func key(_ messageID: String?, _ bytes: [UInt8]) -> String {
        let digest: SHA256.Digest
        if let id = messageID?.trimmingCharacters(in: .whitespaces), id.count > 2 {
            digest = SHA256.hash(data: Array(("message-id " + id).utf8))
        } else {
            digest = SHA256.hash(data: bytes)
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// The bytes up to the first empty line (at most 256 KiB): what is kept of a message too large to read.
    static func headerSection(_ bytes: [UInt8]) -> [UInt8] {
        let limit = min(bytes.count, 262_144)
        var i = 0
        while i < limit {
            if bytes[i] == 0x0A, i + 1 < limit, bytes[i + 1] == 0x0A || (bytes[i + 1] == 0x0D && i + 2 < limit && bytes[i + 2] == 0x0A) {
                return Array(bytes[..<(i + 1)])
            }
            i += 1
        }
        return Array(bytes[..<limit])
    }

    static func bracketed(_ id: String) -> String {
        let t = id.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix("<") ? t : "<\(t)>"
    }
}
