import Foundation
import NurtureSigning
import Testing

/// `nurture inbound` through the real binary, as Postfix's pipe transport runs it: what each message does, and the
/// exit status the MTA acts on (0 done, 75 retry, 65 not a message).
@Suite(.serialized)
struct InboundPipeTests {
    /// A project whose two leads were each sent step one (VERP on), the daemon stopped again.
    struct Mailed {
        let made: MinimalProject.Made
        var p: NurtureProcess { made.project }
        /// Per lead address: outbox id and Message-ID of step one.
        let sent: [String: (outboxID: Int64, messageID: String)]
        let signer: TokenSigner

        func verp(_ email: String) -> String { signer.verpLocalPart(outboxID: sent[email]!.outboxID) + "@bounces.example.com" }
        func lead(_ email: String) throws -> LeadView { try LeadView.decode(try p.run(["lead", "show", email, "--json"]).stdout) }
    }

    static func mailed(leads: Int = 2, extra: String = "") throws -> Mailed {
        let made = try MinimalProject.make(leads: leads, extra: extra)
        let p = made.project
        var config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "postal_address: 1 Test Street }",
                                             with: "postal_address: 1 Test Street, verp: true, bounce_domain: bounces.example.com }")
        try config.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        let serve = try p.start(["serve", "--speed", "1000"])
        let done = BoundedPoll.until(timeout: 30) { MinimalProject.outbox(p).count >= leads }
        serve.kill(SIGTERM)
        _ = serve.wait()
        guard done else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: serve.stderr()]) }
        var sent: [String: (Int64, String)] = [:]
        for file in MinimalProject.outbox(p) {
            let raw = try String(contentsOfFile: p.path("var/outbox/" + file), encoding: .utf8)
            let head = raw.components(separatedBy: "\r\n\r\n")[0]
            let to = head.components(separatedBy: "\r\n").first { $0.hasPrefix("To: ") }!
            let email = String(to.split(separator: "<")[1].dropLast())
            let messageID = String(head.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") }!.dropFirst(12))
            let outboxID = Int64(file.split(separator: "-")[1])!
            sent[email] = (outboxID, messageID)
        }
        return Mailed(made: made, sent: sent, signer: try TokenSigner.load(file: p.path("var/token.key")))
    }

    /// A Postfix-style RFC 3464 report for `recipient`, returning the headers of our message `messageID`.
    static func dsn(to envelope: String, recipient: String, messageID: String, status: String, action: String = "failed",
                    id: String = "<20261201101500.4F2A1C0@mx.example.net>") -> [UInt8] {
        Array("""
            Return-Path: <>
            From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
            To: \(envelope)
            Subject: Undelivered Mail Returned to Sender
            Message-ID: \(id)
            Date: Tue,  1 Dec 2026 10:15:00 +0000 (UTC)
            Auto-Submitted: auto-replied
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=delivery-status; boundary="4F2A1C0.1764584100/mx.example.net"

            This is a MIME-encapsulated message.

            --4F2A1C0.1764584100/mx.example.net
            Content-Description: Notification
            Content-Type: text/plain; charset=us-ascii

            This is the mail system at host mx.example.net.

            I'm sorry to have to inform you that your message could not
            be delivered to one or more recipients.

            --4F2A1C0.1764584100/mx.example.net
            Content-Description: Delivery report
            Content-Type: message/delivery-status

            Reporting-MTA: dns; mx.example.net
            Arrival-Date: Tue,  1 Dec 2026 10:14:58 +0000 (UTC)

            Final-Recipient: rfc822; \(recipient)
            Original-Recipient: rfc822;\(recipient)
            Action: \(action)
            Status: \(status)
            Remote-MTA: dns; mail.example.com
            Diagnostic-Code: smtp; 550 \(status) <\(recipient)>: Recipient address rejected: User unknown in virtual mailbox table

            --4F2A1C0.1764584100/mx.example.net
            Content-Description: Undelivered Message Headers
            Content-Type: text/rfc822-headers

            Message-ID: \(messageID)
            From: Hardening Test <test@example.com>
            To: <\(recipient)>
            Subject: Hello

            --4F2A1C0.1764584100/mx.example.net--

            """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test func aHardBounceReportPipedInSuppressesTheLeadEndsItsEnrollmentAndCountsOnce() throws {
        let m = try Self.mailed()
        let ada = "lead0@example.com"
        let report = Self.dsn(to: m.verp(ada), recipient: ada, messageID: m.sent[ada]!.messageID, status: "5.1.1")
        let first = try m.p.run(["inbound", "--recipient", m.verp(ada)], input: report)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("hard_bounce"), "\(first.stdout)")
        #expect(!first.stdout.contains(ada) && !first.stderr.contains(ada), "an address in the pipe's output")
        let lead = try m.lead(ada)
        #expect(lead.suppressed == "bounced")
        #expect(lead.enrollments.allSatisfy { $0.state == "exited" })
        #expect(lead.events.contains { $0.type == "bounce" && $0.step == "one" && $0.detail?.hasPrefix("5.1.1 550 5.1.1") == true }, "\(lead.events)")
        let text = try m.p.run(["lead", "show", ada]).stdout
        #expect(text.contains("bounce  guide/one  5.1.1"), "\(text)")
        #expect(lead.sends(step: "two").allSatisfy { $0.status == "cancelled" })
        // Postfix retries after a timeout it did not see answered: the same report again changes nothing.
        let again = try m.p.run(["inbound"], input: report)
        #expect(again.status == 0 && again.stdout.contains("already processed"), "\(again.stdout)\(again.stderr)")
        #expect(try m.lead(ada).events.filter { $0.type == "bounce" }.count == 1)
        // The other lead is untouched.
        #expect(try m.lead("lead1@example.com").suppressed == nil)
        let stats = try m.p.run(["stats"]).stdout
        #expect(stats.contains("inbound: 1 message (1 hard_bounce)"), "\(stats)")
        let json = try m.p.run(["stats", "--json"]).stdout
        #expect(json.contains("\"bounced\" : 1"), "\(json)")
        // /metrics counts what came back, whichever process recorded it.
        let serve = try m.p.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? m.made.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        let metrics = String(decoding: try m.made.http.get("/metrics").body, as: UTF8.self)
        #expect(metrics.contains(#"nurture_inbound_messages{outcome="hard_bounce"} 1"#), "\(metrics.prefix(2_000))")
    }

    @Test func aBounceThatNamesNoneOfOurMessagesSuppressesNoOne() throws {
        let m = try Self.mailed()
        let ada = "lead0@example.com"
        // A guessed VERP id with a forged tag, and a Message-ID we never sent.
        let forged = "bounces+\(m.sent[ada]!.outboxID)-0123456789@bounces.example.com"
        let report = Self.dsn(to: forged, recipient: ada, messageID: "<1.one.deadbeef@example.com>", status: "5.1.1")
        let result = try m.p.run(["inbound", "--recipient", forged], input: report)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ignored"), "\(result.stdout)")
        #expect(try m.lead(ada).suppressed == nil)
        #expect(try m.lead(ada).events.allSatisfy { $0.type != "bounce" })
    }

    @Test func aReportMatchedOnlyByTheReturnedMessageIDStillFindsItsLead() throws {
        let m = try Self.mailed()
        let bob = "lead1@example.com"
        let report = Self.dsn(to: "postmaster@example.com", recipient: bob, messageID: m.sent[bob]!.messageID, status: "5.2.1",
                              id: "<other-report@mx.example.net>")
        let result = try m.p.run(["inbound"], input: report)
        #expect(result.status == 0 && result.stdout.hasPrefix("hard_bounce"), "\(result.stdout)\(result.stderr)")
        #expect(try m.lead(bob).suppressed == "bounced")
    }

    @Test func softBouncesAreCountedAndOnlySuppressAtTheLimit() throws {
        let m = try Self.mailed(extra: "inbound: { soft_bounce_limit: 2 }")
        let ada = "lead0@example.com"
        let delayed = Self.dsn(to: m.verp(ada), recipient: ada, messageID: m.sent[ada]!.messageID, status: "4.2.2", action: "delayed",
                               id: "<delay-1@mx.example.net>")
        let first = try m.p.run(["inbound", "--recipient", m.verp(ada)], input: delayed)
        #expect(first.status == 0 && first.stdout.hasPrefix("soft_bounce"), "\(first.stdout)\(first.stderr)")
        #expect(try m.lead(ada).suppressed == nil)
        #expect(try m.lead(ada).events.contains { $0.type == "soft_bounce" })
        let steps = try m.p.run(["stats", "--json"]).stdout
        #expect(steps.contains("\"soft_bounced\" : 1"), "\(steps)")
        // A later report about the same message is not a second bounce "in a row".
        let failedLater = Self.dsn(to: m.verp(ada), recipient: ada, messageID: m.sent[ada]!.messageID, status: "4.4.7", id: "<delay-2@mx.example.net>")
        _ = try m.p.run(["inbound"], input: failedLater)
        #expect(try m.lead(ada).suppressed == nil)
    }

    @Test func aReplyIsScoredAsRepliedAndKeptWhenItNamesNoOne() throws {
        let m = try Self.mailed()
        let ada = "lead0@example.com"
        let reply = Array("""
            From: Lead Zero <\(ada)>
            To: Hardening Test <test@example.com>
            Subject: Re: Hello
            Message-ID: <CAF=reply1@mail.example.com>
            In-Reply-To: \(m.sent[ada]!.messageID)
            References: \(m.sent[ada]!.messageID)
            Date: Tue, 1 Dec 2026 11:00:00 +0100
            Content-Type: text/plain; charset=utf-8

            Sounds interesting, can we talk on Thursday?

            """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let result = try m.p.run(["inbound"], input: reply)
        #expect(result.status == 0 && result.stdout.hasPrefix("reply"), "\(result.stdout)\(result.stderr)")
        let lead = try m.lead(ada)
        #expect(lead.events.contains { $0.type == "replied" && $0.step == "one" })
        #expect(lead.ledger.contains { $0.cause.contains("replied") && $0.delta > 0 })
        // A stranger writing about nothing we sent is kept aside, not pinned on a lead.
        let stranger = Array("From: someone@elsewhere.example\r\nTo: test@example.com\r\nSubject: Hi\r\nMessage-ID: <x1@elsewhere.example>\r\n\r\nHello\r\n".utf8)
        let kept = try m.p.run(["inbound"], input: stranger)
        #expect(kept.status == 0 && kept.stdout.hasPrefix("quarantined"), "\(kept.stdout)\(kept.stderr)")
        let list = try m.p.run(["inbound", "quarantine"]).stdout
        #expect(list.contains("reply that names none of our messages"), "\(list)")
        let id = String(list.split(separator: " ")[0])
        #expect(try m.p.run(["inbound", "quarantine", id]).stdout.contains("Message-ID: <x1@elsewhere.example>"))
    }

    @Test func exitStatusesTellTheMTAWhetherToRetry() throws {
        let m = try Self.mailed()
        #expect(try m.p.run(["inbound"], input: []).status == 65)
        #expect(try m.p.run(["inbound"], input: [0, 1, 2, 0xFF, 0xFE, 0, 0]).status == 65)
        // A store that cannot record: the MTA must keep the message and try again.
        var config = try String(contentsOfFile: m.p.path("nurture.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "database: var/nurture.sqlite", with: "database: /proc/nurture-nowhere/nurture.sqlite")
        try config.write(toFile: m.p.path("broken.yaml"), atomically: true, encoding: .utf8)
        let ada = "lead0@example.com"
        let report = Self.dsn(to: m.verp(ada), recipient: ada, messageID: m.sent[ada]!.messageID, status: "5.1.1")
        let failed = try m.p.run(["inbound", "--config", "broken.yaml"], input: report)
        #expect(failed.status == 75, "\(failed.stdout)\(failed.stderr)")
        #expect(try m.lead(ada).suppressed == nil)
        // And when it is back, the retry records it.
        #expect(try m.p.run(["inbound"], input: report).status == 0)
        #expect(try m.lead(ada).suppressed == "bounced")
    }

    @Test func aMessageOverTheSizeLimitIsKeptAsideWithItsHeadersAndTheMTAIsDone() throws {
        let m = try Self.mailed()
        var big = Array("From: someone@elsewhere.example\r\nSubject: huge\r\nMessage-ID: <big@elsewhere.example>\r\n\r\n".utf8)
        let line = Array(String(repeating: "A", count: 998).utf8) + [13, 10]
        while big.count < 50 * 1_048_576 { big += line }
        let result = try m.p.run(["inbound"], input: big)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("over inbound.max_message_size"), "\(result.stdout)")
        let list = try m.p.run(["inbound", "quarantine"]).stdout
        #expect(list.contains("\(big.count) bytes"), "\(list)")
        let id = String(list.split(separator: " ")[0])
        let kept = try m.p.run(["inbound", "quarantine", id]).stdout
        #expect(kept.contains("Subject: huge") && kept.utf8.count < 1_000, "\(kept.utf8.count)")
    }
}

extension InboundPipeTests {
    @Test func aReplyIsForwardedToSalesWithTheReplyAttachedAndReplyToTheLead() throws {
        let m = try Self.mailed(extra: "handoff: { email: sales@example.com }")
        let ada = "lead0@example.com"
        let reply = Array("""
            From: Lead Zero <\(ada)>
            To: test@example.com
            Subject: Re: Hello
            Message-ID: <reply-forward-1@mail.example.com>
            In-Reply-To: \(m.sent[ada]!.messageID)
            Content-Type: text/plain; charset=utf-8

            Yes, please call me.

            """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        #expect(try m.p.run(["inbound"], input: reply).stdout.hasPrefix("reply"))
        let before = Set(MinimalProject.outbox(m.p))
        let serve = try m.p.start(["serve", "--speed", "1000"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        var forwarded: String?
        BoundedPoll.until(timeout: 30) {
            for name in Set(MinimalProject.outbox(m.p)).subtracting(before) {
                let file = m.p.path("var/outbox/" + name)
                if let raw = try? String(contentsOfFile: file, encoding: .utf8), raw.contains("Subject: Reply from") { forwarded = file }
            }
            return forwarded != nil
        }
        let file = try #require(forwarded, "\(serve.stderr())")
        let seen = try Tool.run("/usr/bin/python3", [Self.support("check_forward.py"), file]).output
        #expect(seen.contains("reply-to: <\(ada)>") || seen.contains("reply-to: \(ada)"), "\(seen)")
        #expect(seen.contains("subject: Reply from \(ada): Re: Hello"), "\(seen)")
        #expect(seen.contains("type: multipart/mixed"), "\(seen)")
        #expect(seen.contains("attached-message-id: <reply-forward-1@mail.example.com>"), "\(seen)")
        #expect(seen.contains("attached-body: Yes, please call me."), "\(seen)")
    }

    static func support(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Support/\(name)").path
    }
}
