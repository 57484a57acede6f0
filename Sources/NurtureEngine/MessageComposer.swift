import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureMail
import NurtureSigning

/// Turns a due send into the bytes a transport delivers: render, sign the unsubscribe link, build MIME.
public struct MessageComposer: Sendable {
    public var signer: TokenSigner

    public init(signer: TokenSigner) { self.signer = signer }

    public enum Problem: Error, CustomStringConvertible {
        case unknownTemplate(String)
        case badSender(String)
        public var description: String {
            switch self {
            case .unknownTemplate(let t): "template '\(t)' is not loaded"
            case .badSender(let s): "sender address '\(s)' is not valid"
            }
        }
    }

    public func unsubscribeURL(_ catalog: Catalog, outboxID: Int64) -> String {
        catalog.config.http.publicURL + "/u/" + signer.sign(LinkToken(purpose: .unsubscribe, outboxID: outboxID))
    }

    public func compose(_ due: DueSend, sequence: NurtureSequence, step: Step, catalog: Catalog, date: Date) throws -> OutgoingMessage {
        try compose(lead: due.lead, sequence: sequence, step: step, catalog: catalog, date: date, outboxID: due.outboxID,
                    messageID: due.messageID, unsubscribeURL: unsubscribeURL(catalog, outboxID: due.outboxID))
    }

    /// Renders and encodes one step for one lead; `send-test` uses it directly, with no outbox row.
    public func compose(lead: Lead, sequence: NurtureSequence, step: Step, catalog: Catalog, date: Date, outboxID: Int64,
                        messageID: String, unsubscribeURL unsubscribe: String) throws -> OutgoingMessage {
        // An A/B-tested step sends the lead's variant: the same keyed hash the scheduler records it under.
        let name = VariantAssignment.variant(of: step, sequenceID: sequence.id, leadKey: lead.email.key)?.template ?? step.template
        guard let template = catalog.templates[name] else { throw Problem.unknownTemplate(name) }
        var email = catalog.renderer.render(template, variables: catalog.variables(for: lead, sequence: sequence, unsubscribeURL: unsubscribe))
        let http = catalog.config.http
        var links: [String] = []
        if http.trackClicks {
            let unsubscribePrefix = http.publicURL + "/u/"
            (email.html, links) = LinkTracker.rewrite(email.html, track: { target in
                (target.hasPrefix("https://") || target.hasPrefix("http://")) && !target.hasPrefix(unsubscribePrefix)
            }, redirect: { n in
                http.publicURL + "/c/" + signer.sign(LinkToken(purpose: .click, outboxID: outboxID, link: UInt16(clamping: n)))
            })
        }
        if http.trackOpens {
            email.html = LinkTracker.addPixel(email.html, url: http.publicURL + "/o/" + signer.sign(LinkToken(purpose: .open, outboxID: outboxID)) + ".gif")
        }
        let sender = sequence.sender ?? catalog.config.sender
        guard let from = try? EmailAddress(validating: sender.email) else { throw Problem.badSender(sender.email) }
        let replyTo = sender.replyTo.flatMap { try? EmailAddress(validating: $0) }
        let toName = [lead.fields["first_name"], lead.fields["last_name"]].compactMap { $0 }.joined(separator: " ")
        let message = MailMessage(fromName: sender.name, from: from, toName: toName.isEmpty ? nil : toName, to: lead.email,
                                  replyTo: replyTo, subject: email.subject, date: date, messageID: messageID,
                                  unsubscribeURL: unsubscribe, listID: Self.listID(sequence, domain: String(from.domain)),
                                  text: email.text, html: email.html)
        let bounceDomain = catalog.config.bounceDomain ?? String(from.domain)
        let envelope = catalog.config.verp ? (try? EmailAddress(validating: "\(signer.verpLocalPart(outboxID: outboxID))@\(bounceDomain)")) ?? from : from
        var data = MIMEBuilder.build(message)
        // Signed here, in the render stage that runs on every core, never on a transfer thread; every transport
        // then delivers the same signed bytes.
        if let signing = catalog.dkim(for: sequence.id)?.signing {
            data = try DKIMSigner(domain: signing.domain, signatures: signing.signatures).sign(data, at: date)
        }
        return OutgoingMessage(outboxID: outboxID, messageID: messageID, envelopeFrom: envelope, recipient: lead.email,
                               subject: email.subject, data: data, links: links)
    }

    /// RFC 2919: the sequence's name as the phrase, its id under the sender's domain as the list's identifier.
    static func listID(_ sequence: NurtureSequence, domain: String) -> (name: String, identifier: String) {
        (sequence.name, "\(sequence.id).\(domain.lowercased())")
    }

    /// The domain Message-IDs of a sequence use: its sender's.
    public static func messageDomain(_ sequence: NurtureSequence, _ catalog: Catalog) -> String {
        let email = (sequence.sender ?? catalog.config.sender).email
        return email.split(separator: "@").last.map(String.init) ?? "localhost"
    }
}
