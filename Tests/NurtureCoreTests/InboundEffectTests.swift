import Foundation
import Testing
import NurtureCore

/// The rules of what an inbound message does, decided once for the pipe, IMAP and every store.
struct InboundEffectTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = InboundPolicy(softBounceLimit: 3, outOfOfficePostpone: .days(7))

    func target(outbox: Int64? = 7, soft: Int = 0) throws -> InboundTarget {
        InboundTarget(leadID: 1, email: try EmailAddress(validating: "ada@example.com"), outboxID: outbox, sequenceID: "s", stepID: "a",
                      softBouncesInARow: soft)
    }

    @Test func aPermanentFailureOfOurMessageIsAHardBounce() throws {
        let (outcome, effect, reason) = InboundEffect.decide(.bounce(permanent: true, status: "5.1.1", diagnostic: "550 no such user"),
                                                             target: try target(), policy: policy, now: now)
        #expect(outcome == .hardBounce && reason == "5.1.1")
        #expect(effect == .suppress(reason: "bounced", event: "bounce", cause: "hard bounce: 5.1.1"))
    }

    @Test func aReportNamingNoMessageOfOursChangesNothingEvenWhenTheSenderIsALead() throws {
        for signal in [InboundSignal.bounce(permanent: true, status: "5.1.1", diagnostic: nil), .complaint(feedbackType: "abuse")] {
            #expect(InboundEffect.decide(signal, target: nil, policy: policy, now: now).0 == .ignored)
            // Matched only by address (no outbox id): a report cannot suppress on an address it merely mentions.
            #expect(InboundEffect.decide(signal, target: try target(outbox: nil), policy: policy, now: now).1 == .none)
        }
    }

    @Test func softBouncesSuppressOnlyAtTheLimit() throws {
        let soft = InboundSignal.bounce(permanent: false, status: "4.2.2", diagnostic: nil)
        #expect(InboundEffect.decide(soft, target: try target(soft: 1), policy: policy, now: now).1
                == .record(event: "soft_bounce", cause: "soft bounce: 4.2.2", postponeTo: nil))
        let (outcome, effect, _) = InboundEffect.decide(soft, target: try target(soft: 2), policy: policy, now: now)
        #expect(outcome == .softBounce)
        #expect(effect == .suppress(reason: "bounced", event: "soft_bounce", cause: "soft bounce 3 in a row (limit 3): 4.2.2"))
    }

    @Test func aComplaintSuppressesAsComplained() throws {
        #expect(InboundEffect.decide(.complaint(feedbackType: "abuse"), target: try target(), policy: policy, now: now).1
                == .suppress(reason: "complained", event: "complaint", cause: "complaint: abuse"))
    }

    @Test func anOutOfOfficePostponesOnlyWhenConfiguredAndAnAutoAcknowledgementNever() throws {
        #expect(InboundEffect.decide(.autoReply(outOfOffice: true), target: try target(), policy: policy, now: now).1
                == .record(event: "auto_reply", cause: "out of office", postponeTo: now.addingTimeInterval(7 * 86_400)))
        #expect(InboundEffect.decide(.autoReply(outOfOffice: true), target: try target(), policy: InboundPolicy(), now: now).1
                == .record(event: "auto_reply", cause: "out of office", postponeTo: nil))
        #expect(InboundEffect.decide(.autoReply(outOfOffice: false), target: try target(), policy: policy, now: now).1
                == .record(event: "auto_reply", cause: "automatic reply", postponeTo: nil))
        #expect(InboundEffect.decide(.autoReply(outOfOffice: true), target: nil, policy: policy, now: now).0 == .ignored)
    }

    @Test func aReplyIsScoredForItsLeadAndKeptAsideWhenItNamesNoOne() throws {
        #expect(InboundEffect.decide(.reply, target: try target(outbox: nil), policy: policy, now: now).1
                == .record(event: "replied", cause: "replied", postponeTo: nil))
        #expect(InboundEffect.decide(.reply, target: nil, policy: policy, now: now).0 == .quarantined)
    }

    @Test func inboundEventsAreReservedExceptRepliedWhichOperatorsMayStillPost() {
        for name in ["soft_bounce", "complaint", "auto_reply"] { #expect(EventKind.reservedNames.contains(name)) }
        #expect(!EventKind.reservedNames.contains("replied"))
        #expect(EventKind.replied.showsInterest && !EventKind.autoReply.showsInterest && !EventKind.complaint.showsInterest)
    }
}
