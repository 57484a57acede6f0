import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NurtureAuthoring
import NurtureCore
import NurtureMail
import ServiceLifecycle

/// Tells sales about leads that crossed the hand-off threshold: each pending row of the hand-off outbox is POSTed
/// to the webhook (signed) or emailed, and retried with backoff until it succeeds. The row was committed with the
/// crossing, and is marked delivered only after a 2xx: a crash in between means one retry, never a loss.
public struct HandoffService: Service {
    let store: HandoffStore
    let catalog: CatalogHolder
    let transport: Transport
    let clock: NurtureClock
    let secret: Data?
    let retry: RetryPolicy
    let pollInterval: TimeInterval
    let logger: Logger

    public init(store: HandoffStore, catalog: CatalogHolder, transport: Transport, clock: NurtureClock, secret: Data?,
                retry: RetryPolicy = RetryPolicy(), pollInterval: TimeInterval, logger: Logger) {
        self.store = store
        self.catalog = catalog
        self.transport = transport
        self.clock = clock
        self.secret = secret
        self.retry = retry
        self.pollInterval = pollInterval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let wake = await tick(now: clock.now())
            do {
                try await cancelWhenGracefulShutdown { [clock, wake] in try await clock.sleep(until: wake) }
            } catch {
                break
            }
        }
    }

    /// One turn of the loop (tests drive it on a manual clock): re-notify hand-offs past the SLA, deliver what is
    /// due. Returns when to look again.
    public func tick(now: Date) async -> Date {
        var wake = now.addingTimeInterval(pollInterval)
        do {
            // Hand-offs past the SLA with no answer are re-notified once (reminder rows, delivered like any other).
            let settings = catalog.current.config.handoff
            if settings.sla != nil {
                let queued = try await store.queueReminders(at: now, channels: settings.renotify, limit: 50)
                if queued > 0 { logger.warning("\(queued) hand-off(s) past handoff.sla without an answer from sales: re-notified") }
            }
            for handoff in try await store.dueHandoffs(at: now, limit: 20) { await deliver(handoff, now: now) }
            if let next = try await store.nextHandoffAt(), next > now { wake = min(wake, next) }
        } catch {
            logger.error("hand-off loop: \(error)")
        }
        return wake
    }

    func deliver(_ h: PendingHandoff, now: Date) async {
        let config = catalog.current.config
        let outcome: Result<String, HandoffError>
        do {
            guard let details = try await store.lead(h.email) else { return } // erased meanwhile: nothing left to tell
            let body = Self.payload(h, details)
            switch h.channel {
            case "webhook": outcome = await post(body, to: config.handoff.webhook, delivery: h.id)
            case "email": outcome = await email(h, details, config: config)
            case "reply": outcome = await forward(h, details, config: config)
            default: outcome = .failure(HandoffError("unknown channel \(h.channel)"))
            }
        } catch {
            outcome = .failure(HandoffError("\(error)"))
        }
        do {
            switch outcome {
            case .success(let detail):
                try await store.handoffDelivered(h.id, at: now)
                logger.info("hand-off \(h.id) delivered by \(h.channel): \(LogRedaction.addresses(detail))")
            case .failure(let error):
                let at = retry.retryAt(attempts: h.attempts + 1, firstAttempt: h.createdAt, now: now, jitter: Double.random(in: 0...1))
                    ?? now.addingTimeInterval(Double(retry.maximum.seconds))
                try await store.handoffFailed(h.id, error: error.message, retryAt: at)
                logger.warning("hand-off \(h.id) by \(h.channel) failed (attempt \(h.attempts + 1)): \(LogRedaction.addresses(error.message)); retry at \(DateText.iso(at))")
            }
        } catch {
            logger.error("hand-off \(h.id): cannot record the outcome: \(error)")
        }
    }

    struct HandoffError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    /// The JSON sales receives: the lead, its score and stage, and why (the latest ledger entries).
    static func payload(_ h: PendingHandoff, _ s: StoredLead) -> [UInt8] {
        let lead = s.lead
        var document: [String: Any] = [
            "event": h.reminder ? "lead.handoff.overdue" : "lead.handoff", "delivery_id": h.id, "crossed_at": DateText.iso(h.createdAt),
            "score": h.score,
            // What sales answers (`POST /api/v1/handoffs/{handoff_id}`); the delivery id works too.
            "handoff_id": h.crossing ?? h.id, "sla_due_at": h.slaDueAt.map(DateText.iso) as Any? ?? NSNull(),
            "lead": [
                "email": lead.email.value, "persona": lead.persona, "stage": lead.stage.rawValue, "score": lead.score,
                "fields": lead.fields, "fit": lead.fit, "fit_grade": lead.fitGrade as Any? ?? NSNull(), "locale": lead.locale as Any, "timezone": lead.timeZone as Any,
                "consent": ["source": lead.consent.source, "at": DateText.iso(lead.consent.at)],
            ] as [String: Any],
        ]
        document["ledger"] = s.ledger.prefix(20).map { ["at": DateText.iso($0.at), "delta": $0.delta, "score_after": $0.scoreAfter, "cause": $0.cause] }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }

    /// `sha256=HEX` of the body under the webhook secret, so the receiver can verify the sender.
    static func signature(_ body: [UInt8], secret: Data) -> String {
        "sha256=" + HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret)).map { String(format: "%02x", $0) }.joined()
    }

    func post(_ body: [UInt8], to url: String?, delivery: Int64) async -> Result<String, HandoffError> {
        guard let url, let target = URL(string: url) else { return .failure(HandoffError("handoff.webhook is not configured")) }
        var request = URLRequest(url: target, timeoutInterval: 15)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("\(delivery)", forHTTPHeaderField: "X-Nurture-Delivery")
        if let secret { request.setValue(Self.signature(body, secret: secret), forHTTPHeaderField: "X-Nurture-Signature") }
        do {
            let (_, response) = try await URLSession.shared.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            return (200..<300).contains(status) ? .success("HTTP \(status)") : .failure(HandoffError("HTTP \(status)"))
        } catch {
            return .failure(HandoffError(error.localizedDescription))
        }
    }

    /// A lead's reply, forwarded to `handoff.email` with the reply attached and `Reply-To` the lead.
    func forward(_ h: PendingHandoff, _ s: StoredLead, config: NurtureConfig) async -> Result<String, HandoffError> {
        guard let to = config.handoff.email.flatMap({ try? EmailAddress(validating: $0) }),
              let from = try? EmailAddress(validating: config.sender.email) else { return .failure(HandoffError("handoff.email is not configured")) }
        var original: [UInt8]?
        if let id = h.inboundID {
            do { original = try await store.inboundMessage(id) } catch { return .failure(HandoffError("cannot read the reply: \(error)")) }
        }
        let subject = original.flatMap { try? InboundClassifier.classify($0).subject }
        let note = ["\(s.lead.email.value) replied\(original == nil ? " (the reply itself was not kept: over inbound.quarantine_limit)" : "; the reply is attached").",
                    "", "Persona: \(s.lead.persona)", "Stage: \(s.lead.stage.rawValue.uppercased())", "Score: \(s.lead.score)",
                    "", "Answer this email to write to the lead directly."].joined(separator: "\n")
        let messageID = "<reply-\(h.id)@\(from.domain)>"
        let date = clock.now()
        var data = ReplyForward.build(from: from, to: to, lead: s.lead.email, subject: subject, note: note, original: original, date: date,
                                      messageID: messageID)
        if let signing = config.dkim?.signing {
            do {
                data = try DKIMSigner(domain: signing.domain, signatures: signing.signatures).sign(data, at: date)
            } catch {
                return .failure(HandoffError("cannot sign the forwarded reply (DKIM): \(error)"))
            }
        }
        let out = OutgoingMessage(outboxID: 0, messageID: messageID, envelopeFrom: from, recipient: to, subject: "Reply from lead", data: data)
        switch await transport.deliver([out]).first {
        case .sent(let reply)?: return .success(reply)
        case .temporaryFailure(let why)?, .permanentFailure(let why, _)?, .abandoned(let why)?: return .failure(HandoffError(why))
        case nil: return .failure(HandoffError("not attempted"))
        }
    }

    func email(_ h: PendingHandoff, _ s: StoredLead, config: NurtureConfig) async -> Result<String, HandoffError> {
        guard let to = config.handoff.email.flatMap({ try? EmailAddress(validating: $0) }),
              let from = try? EmailAddress(validating: config.sender.email) else { return .failure(HandoffError("handoff.email is not configured")) }
        let opening = h.reminder
            ? "Reminder: \(s.lead.email.value) was handed to sales with a score of \(h.score) and has no answer yet (hand-off \(h.crossing ?? h.id))."
            : "\(s.lead.email.value) reached a score of \(h.score) and is ready for sales (hand-off \(h.crossing ?? h.id))."
        let lines = [opening, "",
                     "Persona: \(s.lead.persona)", "Stage: \(s.lead.stage.rawValue.uppercased())"]
            + s.lead.fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            + ["", "Answer with: nurture handoff set \(h.crossing ?? h.id) accepted|rejected|recycled|won|lost",
               "Why:"] + s.ledger.prefix(10).map { "  \(DateText.iso($0.at))  \($0.delta >= 0 ? "+" : "")\($0.delta)  \($0.cause)" }
        let text = lines.joined(separator: "\n")
        // A notification to our own sales team, not list mail: no List-Unsubscribe (a one-click there would POST to
        // the site root, or worse, to a lead's token).
        let message = MailMessage(fromName: "Nurture", from: from, toName: nil, to: to, replyTo: nil,
                                  subject: "\(h.reminder ? "Overdue: no answer yet for" : "Sales-ready lead:") \(s.lead.email.value) (score \(h.score))",
                                  date: clock.now(),
                                  messageID: "<handoff-\(h.id)@\(from.domain)>", unsubscribeURL: nil,
                                  text: text, html: "<pre>" + HTMLEscape.escaped(text) + "</pre>")
        var data = MIMEBuilder.build(message)
        if let signing = config.dkim?.signing {
            do {
                data = try DKIMSigner(domain: signing.domain, signatures: signing.signatures).sign(data, at: message.date)
            } catch {
                return .failure(HandoffError("cannot sign the notification (DKIM): \(error)"))
            }
        }
        let out = OutgoingMessage(outboxID: 0, messageID: message.messageID, envelopeFrom: from, recipient: to, subject: message.subject,
                                  data: data)
        switch await transport.deliver([out]).first {
        case .sent(let reply)?: return .success(reply)
        case .temporaryFailure(let why)?, .permanentFailure(let why, _)?, .abandoned(let why)?: return .failure(HandoffError(why))
        case nil: return .failure(HandoffError("not attempted"))
        }
    }
}
