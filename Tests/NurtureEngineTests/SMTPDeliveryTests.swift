import Foundation
import NurtureCore
import NurtureEngine
@testable import NurtureMail
import Testing

/// Delivery over real SMTP servers (aiosmtpd, Postfix's smtp-sink), every captured message checked by Python's parser.
@Suite(.serialized)
struct SMTPDeliveryTests {
    static func message(_ id: Int64, to: String = "lead@example.com", toName: String? = "Ada Lovelace", subject: String = "Hello",
                        fromName: String = "Claire Dubois", text: String = "Hello", html: String = "<p>Hello</p>") throws -> OutgoingMessage {
        let m = MailMessage(fromName: fromName, from: try EmailAddress(validating: "claire@example.com"), toName: toName,
                            to: try EmailAddress(validating: to), replyTo: nil, subject: subject, date: Date(timeIntervalSince1970: 1_800_000_000),
                            messageID: "<\(id).step.test@example.com>", unsubscribeURL: "https://mail.example.com/u/TOKEN\(id)", text: text, html: html)
        return OutgoingMessage(outboxID: id, messageID: m.messageID, envelopeFrom: try EmailAddress(validating: "bounces+\(id)@example.com"),
                               recipient: m.to, subject: subject, data: MIMEBuilder.build(m))
    }

    static let headerSet = ["Content-Type", "Date", "From", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Message-ID", "Subject", "To"]

    @Test func capturedMessagesAreStandardsCorrect() async throws {
        let server = try SMTPTestServer(["capture"])
        let transport = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .off, connections: 2))
        let subject = "Votre livre blanc « Données — 2026 » est prêt, Zoë 📘 " + String(repeating: "très long ", count: 12)
        let results = try await transport.deliverRunning([
            try Self.message(1, toName: "Zoë Ünal-Ça", subject: subject, fromName: "Équipe Acme, \"Analytics\""),
            try Self.message(2, text: String(repeating: "x", count: 5_000) + "\n.\nend\r\nbare CR\rhere", html: "<p>" + String(repeating: "é", count: 5_000) + "</p>"),
        ])
        #expect(results.allSatisfy { if case .sent = $0 { true } else { false } }, "\(results)")
        // Two connections on two lanes: arrival order is not fixed, the envelope sender tells them apart.
        let captured = server.captured.sorted { $0.mailFrom < $1.mailFrom }
        #expect(captured.count == 2)
        #expect(captured.map(\.mailFrom) == ["bounces+1@example.com", "bounces+2@example.com"])
        #expect(captured.map(\.recipients) == [["lead@example.com"], ["lead@example.com"]])
        let first = try SMTPTestServer.checkMIME([captured[0].eml], expected: [
            "subject": subject, "from_name": "Équipe Acme, \"Analytics\"", "to_name": "Zoë Ünal-Ça",
            "headers": Self.headerSet,
        ])
        #expect(first.values.first == [], "\(first)")
        let second = try SMTPTestServer.checkMIME([captured[1].eml], expected: [
            "headers": Self.headerSet, "text_contains": ["\n.\nend\nbare CR\nhere", String(repeating: "x", count: 5_000)],
            "html_contains": [String(repeating: "é", count: 5_000)],
        ])
        #expect(second.values.first == [], "\(second)")
    }

    @Test func hostileLeadDataChangesNeitherEnvelopeNorHeaders() async throws {
        // Addresses with CR/LF never become EmailAddress values, so they cannot reach libcurl's MAIL_RCPT.
        #expect(throws: EmailAddress.Problem.self) { try EmailAddress(validating: "a@x.com\r\nRCPT TO:<evil@x.example>") }
        let server = try SMTPTestServer(["capture"])
        let transport = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .off, connections: 1))
        // A name and subject that got past every other check still cannot start a header.
        let results = try await transport.deliverRunning([try Self.message(7, toName: "Bob\r\nBcc: x@evil.example", subject: "Hi\r\nBcc: y@evil.example\nX-Evil: 1")])
        #expect(results == [.sent(reply: "250 2.0.0 Ok: queued")])
        let captured = try #require(server.captured.first)
        #expect(captured.recipients == ["lead@example.com"])
        let problems = try SMTPTestServer.checkMIME([captured.eml], expected: ["headers": Self.headerSet, "to_addr": "lead@example.com"])
        #expect(problems.values.first == [], "\(problems)")
    }

    @Test func startTLSWithAuthAgainstASelfSignedCertificate() async throws {
        let (cert, key) = try SMTPTestServer.makeCertificate()
        let server = try SMTPTestServer(["capture", "--tls", cert, key, "--auth", "nurture:s3cret"])
        let good = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .required, username: "nurture", password: "s3cret", caFile: cert))
        #expect(try await good.deliverRunning([try Self.message(1)]) == [.sent(reply: "250 2.0.0 Ok: queued")])
        // Wrong password: refused at AUTH — our configuration, so the mail is kept for a retry, not bounced.
        let badPassword = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .required, username: "nurture", password: "nope", caFile: cert))
        guard case .temporaryFailure(let why)? = try await badPassword.deliverRunning([try Self.message(2)]).first else { Issue.record("expected a temporary failure"); return }
        #expect(why.contains("535"))
        // Without the CA the self-signed certificate is refused (curl error 60); without TLS the server says 530.
        let untrusted = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .required, username: "nurture", password: "s3cret"))
        guard case .temporaryFailure(let tlsWhy)? = try await untrusted.deliverRunning([try Self.message(3)]).first else { Issue.record("expected a TLS failure"); return }
        #expect(tlsWhy.hasPrefix("curl error 60"))
        let clear = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .off, username: "nurture", password: "s3cret"))
        guard case .temporaryFailure(let clearWhy)? = try await clear.deliverRunning([try Self.message(4)]).first else { Issue.record("expected 530"); return }
        #expect(clearWhy.hasPrefix("530"))
        #expect(server.captured.count == 1)
    }

    @Test func implicitTLSWithSMTPS() async throws {
        let (cert, key) = try SMTPTestServer.makeCertificate()
        let server = try SMTPTestServer(["capture", "--tls", cert, key, "--implicit-tls", "--auth", "u:p"])
        let transport = SMTPTransport(settings: SMTPSettings(url: "smtps://127.0.0.1:\(server.port)", startTLS: .required, username: "u", password: "p", caFile: cert))
        #expect(try await transport.deliverRunning([try Self.message(1)]) == [.sent(reply: "250 2.0.0 Ok: queued")])
    }

    @Test func connectionsAreReusedAcrossMessages() async throws {
        let server = try SMTPTestServer(["capture"])
        let transport = SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .off, connections: 1))
        try await TransportService.withRunning(transport) {
            for i in 1...3 { _ = await transport.deliver([try Self.message(Int64(i)), try Self.message(Int64(i + 10))]) }
        }
        let ports = Set(server.captured.compactMap(\.peerPort))
        #expect(server.captured.count == 6)
        #expect(ports.count == 1)
    }

    @Test func repliesMapToResults() {
        typealias T = SMTPTransport
        #expect(T.result(curlCode: (0), responseCode: 250, lastCommand: "DATA", lastReply: "250 Ok") == .sent(reply: "250 Ok"))
        #expect(T.result(curlCode: (55), responseCode: 451, lastCommand: "RCPT", lastReply: "451 4.3.0 later") == .temporaryFailure("451 4.3.0 later"))
        #expect(T.result(curlCode: (55), responseCode: 550, lastCommand: "RCPT", lastReply: "550 5.1.1 unknown") == .permanentFailure("550 5.1.1 unknown", recipientRejected: true))
        #expect(T.result(curlCode: (8), responseCode: 554, lastCommand: "DATA", lastReply: "554 5.7.1 spam") == .permanentFailure("554 5.7.1 spam", recipientRejected: false))
        #expect(T.result(curlCode: (8), responseCode: 550, lastCommand: "DATA", lastReply: "550 5.1.1 gone") == .permanentFailure("550 5.1.1 gone", recipientRejected: true))
        guard case .temporaryFailure = T.result(curlCode: (55), responseCode: 553, lastCommand: "MAIL", lastReply: "553 sender refused") else {
            Issue.record("a refused sender is our problem, not a bounce")
            return
        }
        guard case .temporaryFailure(let why) = T.result(curlCode: (7), responseCode: 0, lastCommand: "", lastReply: "") else { Issue.record("refused"); return }
        #expect(why.hasPrefix("curl error 7"))
    }

    @Test func volumeThroughSMTPSinkOnFourConnections() async throws {
        let sink = try SMTPSink()
        let transport = SMTPTransport(settings: SMTPSettings(url: "smtp://127.0.0.1:\(sink.port)", startTLS: .off, connections: 4))
        let sent = try await TransportService.withRunning(transport) {
            var sent = 0
            for batch in 0..<250 {
                let results = await transport.deliver(try (0..<4).map { try Self.message(Int64(batch * 4 + $0 + 1), to: "user\($0)@sink.example") })
                sent += results.filter { if case .sent = $0 { true } else { false } }.count
            }
            return sent
        }
        #expect(sent == 1_000)
    }
}

extension Transport {
    /// One delivery with the transport started around it, as `send-test` does.
    func deliverRunning(_ messages: [OutgoingMessage]) async throws -> [DeliveryResult] {
        try await TransportService.withRunning(self) { await self.deliver(messages) }
    }
}
