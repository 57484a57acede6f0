import Foundation
import NurtureCore
import Testing

/// Re-entry, blackout dates, transactional steps and a recipient's pause, as pure decisions.
struct ReentryAndChoiceTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func sequence(reenter: TimeSpan?) -> NurtureSequence {
        var s = NurtureSequence(id: "s", persona: "p", name: "s", steps: [Step(id: "a", after: .zero, template: "t")])
        s.reenterAfter = reenter
        return s
    }

    @Test func reentryNeedsTheKeyAnEndedEnrollmentAndTheCooldownAndNeverFollowsAWithdrawal() {
        let s = Self.sequence(reenter: .days(90)), ended = Self.t0.addingTimeInterval(-91 * 86_400)
        #expect(ReentryPolicy.mayEnter(s, past: nil, now: Self.t0))
        #expect(ReentryPolicy.mayEnter(s, past: PastEnrollment(active: false, endedAt: ended, endReason: "completed"), now: Self.t0))
        #expect(!ReentryPolicy.mayEnter(s, past: PastEnrollment(active: true), now: Self.t0))
        #expect(!ReentryPolicy.mayEnter(s, past: PastEnrollment(active: false, endedAt: Self.t0.addingTimeInterval(-89 * 86_400), endReason: "completed"),
                                        now: Self.t0))
        #expect(!ReentryPolicy.mayEnter(Self.sequence(reenter: nil), past: PastEnrollment(active: false, endedAt: ended, endReason: "completed"), now: Self.t0))
        for barred in ["unsubscribed", "left by the recipient", "left by the recipient (after completed)", "hard bounce: 550 5.1.1",
                       "complaint: abuse", "handed to sales at score 50.0"] {
            #expect(!ReentryPolicy.mayEnter(s, past: PastEnrollment(active: false, endedAt: ended, endReason: barred), now: Self.t0), "\(barred)")
        }
        #expect(ReentryPolicy.mayEnter(s, past: PastEnrollment(active: false, endedAt: ended, endReason: "event converted"), now: Self.t0))
    }

    @Test func theStoresHistoryKeepsTheActiveOrLatestEnrollmentPerSequence() {
        let text = ["s\u{1E}completed\u{1E}1000\u{1E}completed", "s\u{1E}exited\u{1E}5000\u{1E}event x: y", "t\u{1E}active\u{1E}\u{1E}",
                    "t\u{1E}completed\u{1E}9000\u{1E}completed"].joined(separator: "\u{1F}")
        let past = PastEnrollment.parse(text)
        #expect(past["s"] == PastEnrollment(active: false, endedAt: Date(timeIntervalSince1970: 5), endReason: "event x: y"))
        #expect(past["t"]?.active == true)
        #expect(PastEnrollment.parse(nil).isEmpty)
    }

    @Test func blackoutDatesAreWholeLocalDaysAndOnlyRealDatesAreAccepted() {
        var w = SendWindow(days: Set(Weekday.allCases), startMinute: 9 * 60, endMinute: 17 * 60)
        w.except = ["2026-12-24", "2026-12-25"]
        let paris = TimeZone(identifier: "Europe/Paris")!
        // 23 December 18:00 Paris: the next two days are blackouts; the 26th at 09:00 Paris is 08:00 UTC.
        let t = ISO8601DateFormatter().date(from: "2026-12-23T17:00:00Z")!
        #expect(w.nextOpening(atOrAfter: t, in: paris) == ISO8601DateFormatter().date(from: "2026-12-26T08:00:00Z")!)
        // Always-open windows honour blackouts too; a blackout day in Tokyo starts at its own midnight.
        var always = SendWindow.always
        always.except = ["2026-12-25"]
        let christmasInTokyo = ISO8601DateFormatter().date(from: "2026-12-24T16:00:00Z")!
        #expect(always.nextOpening(atOrAfter: christmasInTokyo, in: TimeZone(identifier: "Asia/Tokyo")!)
                == ISO8601DateFormatter().date(from: "2026-12-25T15:00:00Z")!)
        #expect(always.isOpen(at: christmasInTokyo, in: .gmt))
        for ok in ["2026-12-25", "2028-02-29"] { #expect(SendWindow.isBlackoutDate(ok)) }
        for bad in ["2026-02-29", "2026-13-01", "2026-1-05", "26-12-25", "2026-12-32", "christmas", "２０２６-12-25"] {
            #expect(!SendWindow.isBlackoutDate(bad), "\(bad)")
        }
    }

    static func input(_ step: Step, now: Date = t0, paused: Date? = nil, recent: [Date] = [], unengaged: Int = 0) -> DispatchInput {
        let s = NurtureSequence(id: "s", persona: "p", name: "s", steps: [step])
        var i = DispatchInput(now: now, dueAt: now, sequence: s, stepID: step.id, leadSuppressed: false, leadScore: 0, eventsSinceEnrollment: [],
                              engagement: Engagement(), recentSends: recent, sendsSinceEngagement: unengaged, zone: .gmt,
                              throttle: ThrottlePolicy(minGap: .days(2), sunsetAfter: 3))
        i.pausedUntil = paused
        return i
    }

    @Test func aPauseHoldsNurtureMailOnlyAndATransactionalStepSkipsPauseSunsetAndFatigue() {
        let mail = Step(id: "m", after: .zero, template: "t")
        var receipt = mail
        receipt.transactional = true
        let until = Self.t0.addingTimeInterval(30 * 86_400)
        #expect(DispatchPolicy.decide(Self.input(mail, paused: until))
                == .postpone(until: until, reason: "paused by the recipient until \(DateText.iso(until))"))
        #expect(DispatchPolicy.decide(Self.input(mail, paused: Self.t0.addingTimeInterval(-1))) == .send, "a pause that ended holds nothing")
        #expect(DispatchPolicy.decide(Self.input(receipt, paused: until)) == .send)
        let justSent = [Self.t0.addingTimeInterval(-60)]
        #expect(DispatchPolicy.decide(Self.input(mail, recent: justSent)) == .postpone(until: Self.t0.addingTimeInterval(2 * 86_400 - 60), reason: "fatigue throttle"))
        #expect(DispatchPolicy.decide(Self.input(receipt, recent: justSent)) == .send)
        if case .exit(let reason, _, _) = DispatchPolicy.decide(Self.input(mail, unengaged: 3)) { #expect(reason.hasPrefix("sunset")) } else { Issue.record("no sunset") }
        #expect(DispatchPolicy.decide(Self.input(receipt, unengaged: 3)) == .send)
        var suppressed = Self.input(receipt)
        suppressed.leadSuppressed = true
        #expect(DispatchPolicy.decide(suppressed) == .exit(reason: "suppressed", handoff: false, leadWide: true))
    }

    @Test func choicesTravelAsFormValuesAndOnlyTheOfferedOnesParse() {
        #expect(RecipientChoice(formValue: "leave") == .leaveSequence)
        #expect(RecipientChoice(formValue: "pause30") == .pause(days: 30) && RecipientChoice(formValue: "pause90") == .pause(days: 90))
        for bad in ["pause", "pause31", "pause-30", "pause9000000000000000000000", "LEAVE", ""] { #expect(RecipientChoice(formValue: bad) == nil, "\(bad)") }
        #expect(RecipientChoice.pause(days: 90).formValue == "pause90")
    }
}
