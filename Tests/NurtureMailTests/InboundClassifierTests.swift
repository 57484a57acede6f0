import Foundation
import NurtureCore
import Testing
@testable import NurtureMail

/// The inbound corpus (Fixtures/inbound/, written for these tests in the shapes real generators send): each fixture's
/// classification and every handle the processor matches with.
struct InboundClassifierTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/inbound").path

    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: fixtures + "/" + name))) }

    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var kind: InboundReport.Kind
        var referenced: [String] = []
        var addresses: [String]
        var envelopeIDs: [String] = []
        var testDescription: String { file }
    }

    static func ours(_ n: Int, _ step: String = "welcome") -> String { "<\(n).\(step).7f3a9c@nurture.example>" }
    static let hello = "hello@acme-analytics.example"
    static func verp(_ n: Int) -> String { "bounces+\(n)@bounces.nurture.example" }

    static let cases: [Case] = [
        // Delivery status notifications (RFC 3464) as Postfix, Exim, Gmail, Microsoft 365, Exchange and Yahoo send them.
        Case(file: "dsn-postfix-hard.eml",
             kind: .bounce(permanent: true, status: "5.1.1",
                           diagnostic: "550 5.1.1 <ada@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
                           recipient: "ada@example.net"),
             referenced: [ours(12)], addresses: [verp(42)], envelopeIDs: ["12.welcome.7f3a9c"]),
        Case(file: "dsn-postfix-delayed.eml",
             kind: .bounce(permanent: false, status: "4.4.1", diagnostic: "connect to mail.example.org[203.0.113.40]:25: Connection timed out",
                           recipient: "grace@example.org"),
             referenced: [ours(13, "case-study")], addresses: [verp(43)]),
        Case(file: "dsn-exim-hard.eml",
             kind: .bounce(permanent: true, status: "5.0.0", diagnostic: "550 5.1.1 <linus@example.com>: Recipient address rejected: User unknown",
                           recipient: "linus@example.com"),
             referenced: [ours(14)], addresses: [verp(44)]),
        Case(file: "dsn-exim-legacy-plain.eml",
             kind: .bounce(permanent: true, status: "5.0.0", diagnostic: "host mx.example.org [203.0.113.9]: 550 No such user here",
                           recipient: "margaret@example.org"),
             referenced: [ours(15)], addresses: [verp(45)]),
        Case(file: "dsn-yahoo-plain.eml",
             kind: .bounce(permanent: true, status: "5.0.0",
                           diagnostic: "554: delivery error: dd Sorry your message to hedy@yahoo.example cannot be delivered. This mailbox is disabled (554.30). - mta1234.mail.gq1.yahoo.example",
                           recipient: "hedy@yahoo.example"),
             referenced: [ours(16)], addresses: [verp(46)]),
        Case(file: "dsn-gmail-hard.eml",
             kind: .bounce(permanent: true, status: "5.1.1",
                           diagnostic: "550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. For more information, go to 550 5.1.1 https://support.google.example/mail/?p=NoSuchUser a1si123 - gsmtp",
                           recipient: "katherine@example.com"),
             referenced: [ours(17)], addresses: [verp(47)]),
        Case(file: "dsn-microsoft365-hard.eml",
             kind: .bounce(permanent: true, status: "5.1.10",
                           diagnostic: "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
                           recipient: "barbara@contoso.example"),
             referenced: [ours(18)], addresses: [verp(48)]),
        Case(file: "dsn-exchange-no-report-type.eml",
             kind: .bounce(permanent: true, status: "5.1.1", diagnostic: nil, recipient: "alan@corp.example.com"),
             referenced: [ours(19, "case-study")], addresses: [verp(49)]),
        Case(file: "dsn-multiple-recipients.eml",
             kind: .bounce(permanent: true, status: "5.2.1", diagnostic: "550 5.2.1 Mailbox disabled", recipient: "Gone@example.net"),
             referenced: [ours(20)], addresses: [verp(50)], envelopeIDs: ["20.welcome.7f3a9c"]),
        Case(file: "dsn-delivered.eml",
             kind: .unclassified(reason: "delivery status notification with no failure (Action: delivered, Status: 2.0.0)"),
             referenced: [ours(21)], addresses: [verp(51)]),
        // Feedback reports (RFC 5965): Yahoo's complaint feedback loop, Microsoft's JMRP.
        Case(file: "arf-yahoo.eml", kind: .complaint(feedbackType: "abuse"), referenced: [ours(22)],
             addresses: ["fbl@nurture.example", verp(52)]),
        Case(file: "arf-microsoft-jmrp.eml", kind: .complaint(feedbackType: "abuse"), referenced: [ours(23, "case-study")],
             addresses: ["fbl@nurture.example"]),
        // Automatic responses (RFC 3834) and out-of-office replies.
        Case(file: "ooo-outlook-en.eml", kind: .autoReply(outOfOffice: true), referenced: [ours(24)], addresses: [hello]),
        Case(file: "ooo-gmail-vacation.eml", kind: .autoReply(outOfOffice: true), referenced: [ours(25)], addresses: [hello]),
        Case(file: "ooo-french.eml", kind: .autoReply(outOfOffice: true), referenced: [ours(26)], addresses: [hello]),
        Case(file: "autoack-ticket.eml", kind: .autoReply(outOfOffice: false), referenced: [ours(27)], addresses: [hello]),
        // People writing back.
        Case(file: "reply-gmail.eml", kind: .reply, referenced: [ours(28)], addresses: [hello, "team@example.com", "ops@example.com"]),
        Case(file: "reply-outlook.eml", kind: .reply, referenced: [ours(30, "case-study"), ours(29)], addresses: [hello]),
        Case(file: "reply-applemail.eml", kind: .reply, referenced: [ours(31)], addresses: [hello]),
        Case(file: "reply-references-only.eml", kind: .reply,
             referenced: [ours(33, "case-study"), "<internal-thread-1@example.org>", ours(32)], addresses: [hello]),
        Case(file: "reply-fresh-no-threading.eml", kind: .reply, addresses: ["sales@acme-analytics.example"]),
        Case(file: "headers-only.eml", kind: .reply, referenced: [ours(37)], addresses: [hello]),
        Case(file: "no-blank-line.eml", kind: .reply, addresses: [hello]),
        // Bad input: each has a defined outcome.
        Case(file: "bad-unterminated-boundary.eml",
             kind: .bounce(permanent: true, status: "5.1.1", diagnostic: "550 5.1.1 User unknown", recipient: "ada@example.net"),
             referenced: [ours(34)], addresses: [verp(54)]),
        Case(file: "bad-missing-boundary.eml",
             kind: .unclassified(reason: "delivery status notification without a readable message/delivery-status part (no boundary parameter)"),
             addresses: [verp(55)]),
        Case(file: "bad-unknown-charset.eml", kind: .reply, referenced: [ours(35)], addresses: [hello]),
        Case(file: "bad-crlf-tricks-dsn.eml",
             kind: .bounce(permanent: true, status: "5.1.1", diagnostic: "550 5.1.1 User unknown X-Injected: yes", recipient: "ada@example.net"),
             referenced: [ours(38)], addresses: [verp(57)]),
        Case(file: "bad-nul-bytes.eml", kind: .reply, referenced: [ours(39)], addresses: [hello]),
        Case(file: "bad-8bit-headers.eml", kind: .reply, referenced: [ours(40)], addresses: [hello]),
        Case(file: "mailer-daemon-unreadable.eml",
             kind: .unclassified(reason: "from a mailer daemon (MAILER-DAEMON/postmaster) with no readable delivery report"), addresses: [verp(56)]),
        Case(file: "report-read-receipt.eml",
             kind: .unclassified(reason: "a read receipt (multipart/report; report-type=disposition-notification)"),
             referenced: [ours(36)], addresses: [hello]),
    ]

    @Test(arguments: cases)
    func eachFixtureIsClassifiedWithTheHandlesTheProcessorMatchesWith(_ c: Case) throws {
        let report = try InboundClassifier.classify(Self.bytes(c.file))
        #expect(report.kind == c.kind)
        #expect(report.referencedMessageIDs == c.referenced)
        #expect(report.addresses == c.addresses)
        #expect(report.envelopeIDs == c.envelopeIDs)
        #expect(report.messageID != nil)
        for value in [report.subject, report.messageID].compactMap({ $0 }) + report.addresses + report.referencedMessageIDs {
            #expect(!value.contains("\r") && !value.contains("\n"), "\(value)")
        }
    }

    @Test func everyFixtureOnDiskIsInTheTable() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures).filter { $0.hasSuffix(".eml") }
        #expect(Set(onDisk) == Set(Self.cases.map(\.file) + ["not-a-message.eml"]))
    }

    @Test func bytesThatAreNotAMessageAreAFormatErrorAndNothingElseIs() throws {
        #expect(throws: InboundFormatError.self) { try InboundClassifier.classify(Self.bytes("not-a-message.eml")) }
        #expect(throws: InboundFormatError.self) { try InboundClassifier.classify([]) }
        #expect(throws: InboundFormatError.self) { try InboundClassifier.classify(Array("\r\n\r\n  \n".utf8)) }
        #expect(throws: InboundFormatError.self) { try InboundClassifier.classify(Array("just some text\nand more: here\n".utf8)) }
        #expect(throws: InboundFormatError.self) { try InboundClassifier.classify(Array("\nSubject: after an empty line\n".utf8)) }
        #expect((try? InboundClassifier.classify(Array("X: y".utf8)))?.kind == .reply)
    }

    @Test func theEnvelopeRecipientComesFirstAndDuplicatesCountOnce() throws {
        let report = try InboundClassifier.classify(Self.bytes("arf-yahoo.eml"), envelopeRecipient: "Bounces+52@Bounces.Nurture.Example")
        #expect(report.addresses == ["Bounces+52@bounces.nurture.example", "fbl@nurture.example", Self.verp(52)])
    }

    @Test func fromAndSubjectAreDecodedAndOnOneLine() throws {
        let french = try InboundClassifier.classify(Self.bytes("ooo-french.eml"))
        #expect(french.subject == "Réponse automatique : Votre exemplaire du guide, Amélie")
        #expect(french.from == (try EmailAddress(validating: "amelie.durand@exemple.example")))
        #expect(french.messageID == "<absence.1764582001.4417@exemple.example>")
        let outlook = try InboundClassifier.classify(Self.bytes("reply-outlook.eml"))
        #expect(outlook.from?.value == "Ada.Lovelace@contoso.example")
        #expect(outlook.messageID == "<PAXPR08MB70001F2E3D4C5B6A7980@PAXPR08MB7000.eurprd08.prod.outlook.example>")
        let eight = try InboundClassifier.classify(Self.bytes("bad-8bit-headers.eml"))
        #expect(eight.subject == "Re: Réunion de présentation – jeudi ?")
        #expect(eight.from?.value == "renee@example.fr")
        let nul = try InboundClassifier.classify(Self.bytes("bad-nul-bytes.eml"))
        #expect(nul.subject == "Re: Your  copy  of The Playbook")
        let charset = try InboundClassifier.classify(Self.bytes("bad-unknown-charset.eml"))
        #expect(charset.subject == "caf\u{FFFD}not base64€uro =?utf-8?Q?broken")
        #expect(charset.from?.value == "worf@example.com")
        let daemon = try InboundClassifier.classify(Self.bytes("dsn-postfix-hard.eml"))
        #expect(daemon.from?.value == "MAILER-DAEMON@mx.example.net")
    }

    @Test func aBareCRNeverStartsAHeaderSoForgedHeadersBehindOneAreIgnored() throws {
        let report = try InboundClassifier.classify(Self.bytes("bad-crlf-tricks-dsn.eml"))
        #expect(report.messageID == "<20261201200000.4R4@mx.example.net>")
        #expect(!report.addresses.contains(Self.verp(1)))
        #expect(!report.referencedMessageIDs.contains { $0.contains("forged") })
        #expect(report.subject == "Undelivered Mail Message-ID: <99.forged.000000@nurture.example> Delivered-To: bounces+1@bounces.nurture.example")
    }

    @Test func aMisspeltOrMissingReportTypeStillReadsTheDeliveryStatusPart() throws {
        let original = String(decoding: try Self.bytes("dsn-postfix-hard.eml"), as: UTF8.self)
        let expected = try InboundClassifier.classify(Array(original.utf8))
        for variant in ["report-type=delivery_status;", "report-type=\"Delivery-Status\";", ""] {
            let bytes = Array(original.replacingOccurrences(of: "report-type=delivery-status;", with: variant).utf8)
            #expect(try InboundClassifier.classify(bytes) == expected, "\(variant)")
        }
        let mixed = original.replacingOccurrences(of: "multipart/report; report-type=delivery-status;", with: "multipart/mixed;")
        #expect(try InboundClassifier.classify(Array(mixed.utf8)).kind == expected.kind)
    }

    @Test func lfAndCRLFLineEndsGiveTheSameReport() throws {
        for c in Self.cases {
            let original = try Self.bytes(c.file)
            let lf = Array(String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\r\n", with: "\n").utf8)
            guard !lf.contains(0x0D), String(decoding: original, as: UTF8.self).utf8.elementsEqual(original) else { continue }
            let crlf = Array(String(decoding: lf, as: UTF8.self).replacingOccurrences(of: "\n", with: "\r\n").utf8)
            #expect(try InboundClassifier.classify(lf) == InboundClassifier.classify(crlf), "\(c.file)")
        }
    }
}
