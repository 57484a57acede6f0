import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What inbound processing relies on, on every store: a message counts once, a report reaches only a message we
/// sent, its effect commits with it, and kept copies stay within their cap.
extension StoreContractTests {
    /// A lead whose first step was sent; returns its due send (outbox id, Message-ID).
    func mailed(_ store: any DaemonStore, _ email: String, next: PlannedSend? = nil) async throws -> DueSend {
        let d = try await enrolled(store, email)
        _ = try await store.apply([.claim(outboxID: d.outboxID)], now: now)
        _ = try await store.complete([sent(d, next: next)], thenClaim: [], now: now, scoring: scoring)
        return d
    }

    func record(_ key: String, _ outcome: InboundOutcome, copy: [UInt8]? = nil, limit: Int = 1 << 20) -> InboundRecord {
        InboundRecord(key: key, source: "pipe", receivedAt: now, outcome: outcome, reason: "why", size: copy?.count ?? 10, copy: copy,
                      keepLimit: limit, detail: ["status": "5.1.1"])
    }

    @Test(arguments: StoreKind.all)
    func aSentMessageIsFoundByOutboxIDAndMessageIDButANeverSentOneIsNot(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        let byID = try #require(try await store.inboundTarget(outboxID: d.outboxID))
        #expect(byID.leadID == d.leadID && byID.outboxID == d.outboxID && byID.sequenceID == "s" && byID.stepID == "a")
        #expect(try await store.inboundTarget(messageID: d.messageID) == byID)
        #expect(try await store.inboundTarget(messageID: "<forged@example.com>") == nil)
        #expect(try await store.inboundTarget(email: d.lead.email)?.outboxID == nil)
        // Queued but never handed to a server: a "bounce" for it is forged.
        let queued = try await enrolled(store, "bob@example.com")
        #expect(try await store.inboundTarget(outboxID: queued.outboxID) == nil)
        #expect(try await store.inboundTarget(messageID: queued.messageID) == nil)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aMessageIsRecordedOnceHoweverOftenItArrives(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        let target = try #require(try await store.inboundTarget(outboxID: d.outboxID))
        let effect = InboundEffect.record(event: EventKind.softBounce.name, cause: "soft bounce: 4.2.2", postponeTo: nil)
        #expect(try await store.inboundSeen("k1") == false)
        #expect(try await store.recordInbound(record("k1", .softBounce), effect: effect, target: target, forward: false, scoring: scoring) != nil)
        #expect(try await store.inboundSeen("k1"))
        #expect(try await store.recordInbound(record("k1", .softBounce), effect: effect, target: target, forward: false, scoring: scoring) == nil)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.events.filter { $0.type == "soft_bounce" }.count == 1)
        #expect(try await store.inboundCounts() == [.softBounce: 1])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aHardBounceFromInboundSuppressesScoresAndEndsEveryEnrollmentInOneTransaction(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com", next: PlannedSend(stepID: "b", dueAt: now.addingTimeInterval(3_600), messageDomain: "example.com"))
        let target = try #require(try await store.inboundTarget(outboxID: d.outboxID))
        let scoring = ScoringContext(rules: ScoringRules(points: ["bounce": -20], halfLife: nil), handoffChannels: [])
        _ = try await store.recordInbound(record("k", .hardBounce), effect: .suppress(reason: "bounced", event: "bounce", cause: "hard bounce: 5.1.1"),
                                          target: target, forward: false, scoring: scoring)
        let stored = try #require(try await store.lead(d.lead.email))
        #expect(stored.suppression == "bounced")
        #expect(stored.enrollments.allSatisfy { $0.state == .exited })
        #expect(stored.sends.filter { $0.status == .scheduled }.isEmpty)
        #expect(stored.events.contains { $0.type == "bounce" && $0.stepID == "a" })
        #expect(stored.ledger.contains { $0.cause == "hard bounce: 5.1.1" && $0.delta == -20 })
        #expect(try await store.upsert([try lead("ada@example.com")], now: now) == [.suppressed])
        let export = try #require(try await store.export(d.lead.email))
        #expect("\(export.document)".contains("5.1.1"))
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func softBouncesCountDistinctMessagesSinceTheLeadLastShowedInterest(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        let target = try #require(try await store.inboundTarget(outboxID: d.outboxID))
        #expect(target.softBouncesInARow == 0)
        let effect = InboundEffect.record(event: "soft_bounce", cause: "soft bounce", postponeTo: nil)
        _ = try await store.recordInbound(record("k1", .softBounce), effect: effect, target: target, forward: false, scoring: scoring)
        // Counted for the lead's other messages, not for this one again (a "delayed" then a "failed" report).
        #expect(try await store.inboundTarget(outboxID: d.outboxID)?.softBouncesInARow == 0)
        #expect(try await store.inboundTarget(email: d.lead.email)?.softBouncesInARow == 1)
        // A person's interest ends the run.
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "replied", at: now.addingTimeInterval(1)), scoring: scoring)
        #expect(try await store.inboundTarget(email: d.lead.email)?.softBouncesInARow == 0)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func anOutOfOfficePushesTheLeadsWaitingSendsAndNeverBringsOneForward(kind: StoreKind) async throws {
        let store = try await kind.open()
        let soon = now.addingTimeInterval(3_600)
        let d = try await mailed(store, "ada@example.com", next: PlannedSend(stepID: "b", dueAt: soon, messageDomain: "example.com"))
        let target = try #require(try await store.inboundTarget(outboxID: d.outboxID))
        let back = now.addingTimeInterval(7 * 86_400)
        _ = try await store.recordInbound(record("k1", .autoReply), effect: .record(event: "auto_reply", cause: "out of office", postponeTo: back),
                                          target: target, forward: false, scoring: scoring)
        #expect(try await store.lead(d.lead.email)?.sends.first { $0.stepID == "b" }?.dueAt == back)
        _ = try await store.recordInbound(record("k2", .autoReply), effect: .record(event: "auto_reply", cause: "out of office", postponeTo: soon),
                                          target: target, forward: false, scoring: scoring)
        #expect(try await store.lead(d.lead.email)?.sends.first { $0.stepID == "b" }?.dueAt == back)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func aReplyToForwardRidesTheHandoffOutboxWithItsCopy(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com", next: PlannedSend(stepID: "b", dueAt: now.addingTimeInterval(3_600), messageDomain: "example.com"))
        let target = try #require(try await store.inboundTarget(messageID: d.messageID))
        let reply = Array("From: ada@example.com\r\nSubject: Re: hello\r\n\r\nLet's talk.\r\n".utf8)
        let active = try await store.recordInbound(record("k", .reply, copy: reply), effect: .record(event: "replied", cause: "replied", postponeTo: nil),
                                                   target: target, forward: true, scoring: scoring)
        #expect(active?.first?.eventsSinceEnrollment.contains("replied") == true)
        let handoffs = try await store.dueHandoffs(at: now, limit: 10)
        let forward = try #require(handoffs.first { $0.channel == "reply" })
        #expect(forward.leadID == d.leadID)
        #expect(try await store.inboundMessage(try #require(forward.inboundID)) == reply)
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func keptCopiesStayWithinTheirCapOldestDroppedFirst(kind: StoreKind) async throws {
        let store = try await kind.open()
        let message = [UInt8](repeating: UInt8(ascii: "x"), count: 3_000)
        // Base64 makes 3 000 bytes 4 000 characters: a 10 000 cap keeps two.
        for i in 1...4 {
            _ = try await store.recordInbound(record("q\(i)", .quarantined, copy: message, limit: 10_000), effect: .none, target: nil,
                                              forward: false, scoring: scoring)
        }
        let listed = try await store.quarantined(limit: 10)
        #expect(listed.map(\.kept) == [true, true, false, false])
        #expect(listed.first?.reason == "why")
        #expect(try await store.inboundMessage(listed[0].id) == message)
        #expect(try await store.inboundMessage(listed[3].id) == nil)
        #expect(try await store.inboundCounts() == [.quarantined: 4])
        await store.close()
    }

    @Test(arguments: StoreKind.all)
    func erasureDeletesTheLeadsInboundMessages(kind: StoreKind) async throws {
        let store = try await kind.open()
        let d = try await mailed(store, "ada@example.com")
        let target = try #require(try await store.inboundTarget(outboxID: d.outboxID))
        let reply = Array("From: ada@example.com\r\n\r\nhi\r\n".utf8)
        _ = try await store.recordInbound(record("k", .reply, copy: reply), effect: .record(event: "replied", cause: "replied", postponeTo: nil),
                                          target: target, forward: true, scoring: scoring)
        let id = try #require(try await store.dueHandoffs(at: now, limit: 10).first { $0.channel == "reply" }?.inboundID)
        _ = try await store.erase(d.lead.email, now: now)
        #expect(try await store.inboundMessage(id) == nil)
        #expect(try await store.inboundCounts().isEmpty)
        #expect(try await store.inboundTarget(outboxID: d.outboxID) == nil)
        // A stranger's kept-aside message goes when the stranger's address is erased, though they were never a lead.
        let stranger = try EmailAddress(validating: "carol@example.org")
        var kept = record("s", .quarantined, copy: Array("From: carol@example.org\r\n\r\nhello\r\n".utf8))
        kept.senderKey = stranger.key
        _ = try await store.recordInbound(kept, effect: .none, target: nil, forward: false, scoring: scoring)
        #expect(try await store.quarantined(limit: 5).count == 1)
        #expect(try await store.erase(stranger, now: now) == nil)
        #expect(try await store.quarantined(limit: 5).isEmpty)
        await store.close()
    }
}
