import Foundation
import Testing

/// The daemon's IMAP poller against a real Dovecot (scripts/dovecot-test-server.sh), through the real binary: each
/// message is recorded once and moved, whatever `kill -9` interrupts.
/// The test Dovecot's Maildir, when one runs.
enum IMAPServeServer {
    static let environment = ProcessInfo.processInfo.environment
    static var maildir: String? { environment["NURTURE_IMAP_TEST_MAILDIR"].flatMap { $0.isEmpty ? nil : $0 } }
}

/// Outside the suite that skips without a server: in CI a missing server fails.
struct IMAPServeInCITests {
    @Test func ciAlwaysRunsTheIMAPServeTests() {
        if ProcessInfo.processInfo.environment["CI"] == "true" { #expect(IMAPServeServer.maildir != nil) }
    }
}

@Suite(.serialized, .enabled(if: IMAPServeServer.maildir != nil, "NURTURE_IMAP_TEST_MAILDIR is unset: IMAP serve tests skipped"))
struct InboundIMAPServeTests {
    static var environment: [String: String] { IMAPServeServer.environment }
    static var maildir: String? { IMAPServeServer.maildir }

    /// A new Maildir++ folder `.NAME` with its `tmp`, `new` and `cur`, writable by the server whoever runs it.
    static func folder(_ label: String) throws -> String {
        let name = "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        for sub in ["", "/cur", "/new", "/tmp"] {
            let path = "\(maildir!)/.\(name)\(sub)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            chmod(path, 0o777)
        }
        FileManager.default.createFile(atPath: "\(maildir!)/.\(name)/maildirfolder", contents: nil)
        return name
    }

    /// Delivered as an MTA does: written under `tmp/`, renamed into `new/`.
    static func place(_ message: [UInt8], in folder: String, _ n: Int) throws {
        let name = "\(1_764_000_000 + n).M\(n)P1.nurture-test"
        let dir = "\(maildir!)/.\(folder)"
        FileManager.default.createFile(atPath: "\(dir)/tmp/\(name)", contents: Data(message), attributes: [.posixPermissions: 0o666])
        rename("\(dir)/tmp/\(name)", "\(dir)/new/\(name)")
    }

    static func count(_ folder: String) -> Int {
        let dir = "\(maildir!)/.\(folder)"
        return ["new", "cur"].reduce(0) { $0 + ((try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/\($1)"))?.count ?? 0) }
    }

    static func mailboxConfig(_ folder: String, processed: String, interval: String = "1s") -> String {
        """
        inbound:
          poll_interval: \(interval)
          mailboxes:
            - url: \(environment["NURTURE_IMAP_TEST_IMAPS_URL"]!)/\(folder)
              username: \(environment["NURTURE_IMAP_TEST_USER"]!)
              password_file: \(environment["NURTURE_IMAP_TEST_PASSWORD_FILE"]!)
              ca_file: \(environment["NURTURE_IMAP_TEST_CA_FILE"]!)
              processed_folder: \(processed)
        """
    }

    static func reply(from email: String, to messageID: String, _ n: Int) -> [UInt8] {
        Array("""
            From: <\(email)>
            To: test@example.com
            Subject: Re: Hello
            Message-ID: <imap-reply-\(n)@mail.example.com>
            In-Reply-To: \(messageID)
            Content-Type: text/plain; charset=utf-8

            Reply number \(n): let's talk.

            """.replacingOccurrences(of: "\n", with: "\r\n").utf8)
    }

    @Test func messagesInTheMailboxAreRecordedOnceAndMovedEvenWhenTheDaemonIsKilledMidWay() throws {
        let inbox = try Self.folder("inbox"), processed = "done-" + inbox
        let m = try InboundPipeTests.mailed(leads: 60, extra: Self.mailboxConfig(inbox, processed: processed))
        let emails = m.sent.keys.sorted()
        for (n, email) in emails.enumerated() { try Self.place(Self.reply(from: email, to: m.sent[email]!.messageID, n), in: inbox, n) }
        try Self.place(Array("From: stranger@elsewhere.example\r\nMessage-ID: <s1@elsewhere.example>\r\n\r\nWho are you?\r\n".utf8), in: inbox, 999)
        let total = emails.count + 1
        // kill -9 at random moments while it works through the mailbox, then a last run to the end.
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        var logs = ""
        for _ in 0..<8 where Self.count(inbox) > 0 {
            // Killed once a random number more of messages has been moved: mid-way through its work, found by a bounded poll.
            let serve = try m.p.start(["serve", "--speed", "1000"])
            let target = min(total, Self.count(processed) + Int.random(in: 1...8, using: &generator))
            BoundedPoll.until(timeout: 10) { Self.count(processed) >= target }
            serve.kill(SIGKILL)
            _ = serve.wait()
            logs += serve.stderr()
            kills += 1
        }
        let serve = try m.p.start(["serve", "--speed", "1000"])
        let drained = BoundedPoll.until(timeout: 60) { Self.count(inbox) == 0 && Self.count(processed) == total }
        serve.kill(SIGTERM)
        _ = serve.wait()
        logs += serve.stderr()
        #expect(drained, "inbox \(Self.count(inbox)), processed \(Self.count(processed))\n\(logs.suffix(3_000))")
        // Exactly once: one replied event per lead, one quarantined stranger, nothing lost.
        for email in emails {
            let replies = try m.lead(email).events.filter { $0.type == "replied" }.count
            #expect(replies == 1, "\(email): \(replies) replied events")
        }
        let stats = try m.p.run(["stats"]).stdout
        #expect(stats.contains("inbound: \(total) messages (\(emails.count) reply, 1 quarantined)"), "\(stats)")
        let refetched = logs.components(separatedBy: "already recorded (fetched again after a restart?)").count - 1
        print("IMAP chaos: \(kills) kill -9, \(refetched) message(s) fetched again after a kill and not recorded twice")
    }

    @Test func withoutAProcessedFolderMessagesAreFlaggedSeenAndStayWhereTheyAre() throws {
        let inbox = try Self.folder("flag")
        var config = Self.mailboxConfig(inbox, processed: "x")
        config = config.components(separatedBy: "\n").filter { !$0.contains("processed_folder") }.joined(separator: "\n")
        let m = try InboundPipeTests.mailed(extra: config)
        let ada = "lead0@example.com"
        try Self.place(InboundPipeTests.dsn(to: m.verp(ada), recipient: ada, messageID: m.sent[ada]!.messageID, status: "5.1.1"), in: inbox, 1)
        let serve = try m.p.start(["serve", "--speed", "1000"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? m.lead(ada).suppressed) == "bounced" }, "\(serve.stderr())")
        let cur = "\(Self.maildir!)/.\(inbox)/cur"
        #expect(BoundedPoll.until(timeout: 10) {
            ((try? FileManager.default.contentsOfDirectory(atPath: cur)) ?? []).contains { $0.contains(":2,") && $0.split(separator: ",").last?.contains("S") == true }
        }, "\(serve.stderr())")
        #expect(Self.count(inbox) == 1)
    }
}
