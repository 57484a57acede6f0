import Foundation
import Logging
import NurtureCore
import NurtureEngine
import NurtureMail
import NurtureSigning
import Testing

/// Every message of the inbound corpus through the real processor and a real SQLite store, its handles rewritten to a
/// message this store really sent: the outcome, and what it did to the lead.
@Suite(.serialized)
struct InboundCorpusTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("NurtureMailTests/Fixtures/inbound").path
    static let sequence = """
        id: welcome
        persona: reader
        steps:
          - { id: one, after: 0m, template: step }
          - { id: two, after: 7d, template: step }
        exit:
          - on: replied
            then: handoff
        """
    static let signer = TokenSigner(keys: [Data(repeating: 7, count: 32)])

    /// The expected outcome of each fixture (nil: not a message at all, the pipe's exit 65).
    static let outcomes: [String: InboundOutcome?] = [
        "dsn-postfix-hard.eml": .hardBounce, "dsn-exim-hard.eml": .hardBounce, "dsn-exim-legacy-plain.eml": .hardBounce,
        "dsn-yahoo-plain.eml": .hardBounce, "dsn-gmail-hard.eml": .hardBounce, "dsn-microsoft365-hard.eml": .hardBounce,
        "dsn-exchange-no-report-type.eml": .hardBounce, "dsn-multiple-recipients.eml": .hardBounce,
        "bad-unterminated-boundary.eml": .hardBounce, "bad-crlf-tricks-dsn.eml": .hardBounce,
        "dsn-postfix-delayed.eml": .softBounce,
        "arf-yahoo.eml": .complaint, "arf-microsoft-jmrp.eml": .complaint,
        "ooo-outlook-en.eml": .autoReply, "ooo-gmail-vacation.eml": .autoReply, "ooo-french.eml": .autoReply, "autoack-ticket.eml": .autoReply,
        "reply-gmail.eml": .reply, "reply-outlook.eml": .reply, "reply-applemail.eml": .reply, "reply-references-only.eml": .reply,
        "headers-only.eml": .reply, "bad-unknown-charset.eml": .reply, "bad-nul-bytes.eml": .reply, "bad-8bit-headers.eml": .reply,
        "reply-fresh-no-threading.eml": .quarantined, "no-blank-line.eml": .quarantined, "dsn-delivered.eml": .quarantined, "bad-missing-boundary.eml": .quarantined,
        "mailer-daemon-unreadable.eml": .quarantined, "report-read-receipt.eml": .quarantined,
        "not-a-message.eml": InboundOutcome?.none,
    ]

    @Test func everyFixtureHasAnExpectedOutcome() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures).filter { $0.hasSuffix(".eml") }
        #expect(Set(files) == Set(Self.outcomes.keys))
    }

    static func replacing(_ bytes: [UInt8], _ old: String, with new: String) -> [UInt8] {
        let o = Array(old.utf8), n = Array(new.utf8)
        guard !o.isEmpty else { return bytes }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == o[0], i + o.count <= bytes.count, Array(bytes[i..<(i + o.count)]) == o {
                out += n
                i += o.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    @Test(arguments: outcomes.keys.sorted())
    func eachFixtureHasItsOutcomeOnTheLeadItNames(_ file: String) async throws {
        let h = try EngineHarness(sequences: ["welcome.yaml": Self.sequence])
        try await h.addLead("ada@example.com", persona: "reader")
        try await h.run(until: h.clock.now())
        let sent = try #require(h.transport.sent.first)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/" + file)))
        // The fixture's handles (our Message-ID, our VERP address) become those of the message this store sent.
        if let report = try? InboundClassifier.classify(bytes) {
            if let ours = report.referencedMessageIDs.first { bytes = Self.replacing(bytes, ours, with: sent.messageID) }
            for verp in report.addresses where verp.hasPrefix("bounces+") {
                bytes = Self.replacing(bytes, verp, with: Self.signer.verpLocalPart(outboxID: sent.outboxID) + "@bounces.nurture.example")
            }
        }
        let processor = InboundProcessor(store: h.store, catalog: h.holder, signer: Self.signer, clock: h.clock, logger: Logger(label: "test"))
        let expected = try #require(Self.outcomes[file])
        guard let expected else {
            await #expect(throws: InboundFormatError.self) { try await processor.process(bytes, source: "test") }
            return
        }
        let result = try await processor.process(bytes, source: "test")
        #expect(result.outcome == expected, "\(result)")
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        switch expected {
        case .hardBounce:
            #expect(lead.suppression == "bounced")
            #expect(lead.enrollments.allSatisfy { $0.state == .exited })
            #expect(lead.events.contains { $0.type == "bounce" && $0.stepID == "one" })
        case .softBounce:
            #expect(lead.suppression == nil)
            #expect(lead.events.contains { $0.type == "soft_bounce" })
        case .complaint:
            #expect(lead.suppression == "complained")
            #expect(lead.enrollments.allSatisfy { $0.state == .exited })
            #expect(lead.ledger.contains { $0.cause.hasPrefix("complaint") && $0.delta == -100 })
        case .autoReply:
            #expect(lead.events.contains { $0.type == "auto_reply" })
            #expect(!lead.events.contains { $0.type == "replied" })
            #expect(lead.enrollments.allSatisfy { $0.state == .active })
        case .reply:
            #expect(lead.events.contains { $0.type == "replied" })
            // The shipped exit rule: a person answered, a person takes over.
            #expect(lead.enrollments.allSatisfy { $0.state == .exited })
            #expect(lead.events.contains { $0.type == "handoff" })
        case .quarantined, .ignored:
            #expect(lead.suppression == nil && lead.events.allSatisfy { ["sent"].contains($0.type) }, "\(lead.events.map(\.type))")
            #expect(try await h.store.quarantined(limit: 5).count == (expected == .quarantined ? 1 : 0))
        }
        // The same message again changes nothing.
        let again = try await processor.process(bytes, source: "test")
        #expect(again.duplicate)
        #expect(try await h.store.lead(try EmailAddress(validating: "ada@example.com"))?.events.count == lead.events.count)
    }

    @Test func aBounceForAnErasedLeadIsIgnoredAndStoresNothingAboutThem() async throws {
        let h = try EngineHarness(sequences: ["welcome.yaml": Self.sequence])
        try await h.addLead("ada@example.com", persona: "reader")
        try await h.run(until: h.clock.now())
        let sent = try #require(h.transport.sent.first)
        _ = try await h.store.erase(try EmailAddress(validating: "ada@example.com"), now: h.clock.now())
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/dsn-postfix-hard.eml")))
        let report = try InboundClassifier.classify(bytes)
        bytes = Self.replacing(bytes, report.referencedMessageIDs[0], with: sent.messageID)
        let processor = InboundProcessor(store: h.store, catalog: h.holder, signer: Self.signer, clock: h.clock, logger: Logger(label: "test"))
        let result = try await processor.process(bytes, source: "test")
        #expect(result.outcome == .ignored && result.leadID == nil)
        #expect(try await h.store.quarantined(limit: 5).isEmpty)
    }

    @Test func aReplyFromASuppressedAddressIsStillRecordedButMailsNothing() async throws {
        let h = try EngineHarness(sequences: ["welcome.yaml": Self.sequence])
        try await h.addLead("ada@example.com", persona: "reader")
        try await h.run(until: h.clock.now())
        let sent = try #require(h.transport.sent.first)
        try await h.event("ada@example.com", "unsubscribe")
        let reply = Array("From: ada@example.com\r\nSubject: Re: x\r\nMessage-ID: <r@x.example>\r\nIn-Reply-To: \(sent.messageID)\r\n\r\nCall me.\r\n".utf8)
        let processor = InboundProcessor(store: h.store, catalog: h.holder, signer: Self.signer, clock: h.clock, logger: Logger(label: "test"))
        #expect(try await processor.process(reply, source: "test").outcome == .reply)
        try await h.run(until: h.clock.now().addingTimeInterval(30 * 86_400))
        #expect(h.transport.sent.count == 1)
    }

    @Test func aReplyFromAnotherLeadIsThatLeadsAndAStrangersIsTheAddressees() async throws {
        let h = try EngineHarness(sequences: ["welcome.yaml": Self.sequence])
        try await h.addLead("ada@example.com", persona: "reader")
        try await h.addLead("bob@example.com", persona: "other")
        try await h.run(until: h.clock.now())
        let sent = try #require(h.transport.sent.first { $0.recipient.value == "ada@example.com" })
        let processor = InboundProcessor(store: h.store, catalog: h.holder, signer: Self.signer, clock: h.clock, logger: Logger(label: "test"))
        let fromBob = Array("From: bob@example.com\r\nMessage-ID: <b@x.example>\r\nIn-Reply-To: \(sent.messageID)\r\n\r\nI'm her colleague.\r\n".utf8)
        let bob = try await processor.process(fromBob, source: "test")
        #expect(bob.outcome == .reply)
        #expect(try await h.store.lead(try EmailAddress(validating: "bob@example.com"))?.events.contains { $0.type == "replied" } == true)
        #expect(try await h.store.lead(try EmailAddress(validating: "ada@example.com"))?.events.contains { $0.type == "replied" } == false)
        let fromStranger = Array("From: carol@example.com\r\nMessage-ID: <c@x.example>\r\nIn-Reply-To: \(sent.messageID)\r\n\r\nForwarded to me.\r\n".utf8)
        let ada = try #require(try await h.store.inboundTarget(email: try EmailAddress(validating: "ada@example.com")))
        #expect(try await processor.process(fromStranger, source: "test").leadID == ada.leadID)
    }
}
