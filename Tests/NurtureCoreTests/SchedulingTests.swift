import Foundation
import Testing
import NurtureCore

/// ISO 8601 instants, for readable expectations.
func at(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

struct SendWindowOpeningTests {
    let paris = TimeZone(identifier: "Europe/Paris")!
    let newYork = TimeZone(identifier: "America/New_York")!
    let office = SendWindow(days: [.mon, .tue, .wed, .thu, .fri], startMinute: 9 * 60, endMinute: 17 * 60 + 30)

    @Test func insideTheWindowIsNow() {
        #expect(office.nextOpening(atOrAfter: at("2026-11-25T10:00:00Z"), in: paris) == at("2026-11-25T10:00:00Z"))
    }

    @Test func beforeOpeningWaitsForNineLocal() {
        // 06:00 UTC = 07:00 in Paris (winter, UTC+1).
        #expect(office.nextOpening(atOrAfter: at("2026-11-25T06:00:00Z"), in: paris) == at("2026-11-25T08:00:00Z"))
    }

    @Test func fridayEveningMovesToMonday() {
        #expect(office.nextOpening(atOrAfter: at("2026-11-27T17:00:00Z"), in: paris) == at("2026-11-30T08:00:00Z"))
    }

    @Test func closingTimeIsExclusive() {
        #expect(office.nextOpening(atOrAfter: at("2026-11-25T16:30:00Z"), in: paris) == at("2026-11-26T08:00:00Z"))
        #expect(office.nextOpening(atOrAfter: at("2026-11-25T16:29:59Z"), in: paris) == at("2026-11-25T16:29:59Z"))
    }

    @Test func parisSpringForward() {
        // Sunday 29 March 2026 Paris jumps 02:00 → 03:00. Saturday evening → Monday 09:00 CEST = 07:00 UTC.
        #expect(office.nextOpening(atOrAfter: at("2026-03-28T20:00:00Z"), in: paris) == at("2026-03-30T07:00:00Z"))
        // The Friday before, 09:00 CET = 08:00 UTC.
        #expect(office.nextOpening(atOrAfter: at("2026-03-27T05:00:00Z"), in: paris) == at("2026-03-27T08:00:00Z"))
        // A window opening inside the skipped hour opens at the first instant after the jump.
        let night = SendWindow(days: [.sun], startMinute: 2 * 60 + 30, endMinute: 5 * 60)
        #expect(night.nextOpening(atOrAfter: at("2026-03-28T23:00:00Z"), in: paris) == at("2026-03-29T01:00:00Z"))
    }

    @Test func parisFallBack() {
        // Sunday 25 October 2026 Paris goes back 03:00 → 02:00. Monday 09:00 CET = 08:00 UTC.
        #expect(office.nextOpening(atOrAfter: at("2026-10-24T12:00:00Z"), in: paris) == at("2026-10-26T08:00:00Z"))
        // A Sunday window during the repeated hour opens at its first occurrence.
        let night = SendWindow(days: [.sun], startMinute: 2 * 60 + 30, endMinute: 4 * 60)
        #expect(night.nextOpening(atOrAfter: at("2026-10-24T22:00:00Z"), in: paris) == at("2026-10-25T00:30:00Z"))
    }

    @Test func newYorkSpringForwardAndFallBack() {
        // 8 March 2026: EST (UTC-5) → EDT (UTC-4). Monday 9 March 09:00 EDT = 13:00 UTC.
        #expect(office.nextOpening(atOrAfter: at("2026-03-07T12:00:00Z"), in: newYork) == at("2026-03-09T13:00:00Z"))
        // Friday 6 March 09:00 EST = 14:00 UTC.
        #expect(office.nextOpening(atOrAfter: at("2026-03-06T03:00:00Z"), in: newYork) == at("2026-03-06T14:00:00Z"))
        // 1 November 2026: EDT → EST. Monday 2 November 09:00 EST = 14:00 UTC.
        #expect(office.nextOpening(atOrAfter: at("2026-10-31T12:00:00Z"), in: newYork) == at("2026-11-02T14:00:00Z"))
    }

    @Test func alwaysOpenWindowNeverMoves() {
        #expect(SendWindow.always.nextOpening(atOrAfter: at("2026-03-29T01:30:00Z"), in: paris) == at("2026-03-29T01:30:00Z"))
    }
}

struct FatigueThrottleTests {
    let policy = ThrottlePolicy(minGap: .days(2), maxCount: 3, maxWindow: .days(7))

    @Test func noHistoryMeansNow() {
        #expect(FatigueThrottle.earliest(from: at("2026-11-25T10:00:00Z"), recentSends: [], policy: policy) == at("2026-11-25T10:00:00Z"))
    }

    @Test func minimumGapSinceTheLastSend() {
        let t = FatigueThrottle.earliest(from: at("2026-11-25T10:00:00Z"), recentSends: [at("2026-11-24T09:00:00Z")], policy: policy)
        #expect(t == at("2026-11-26T09:00:00Z"))
    }

    @Test func capPerRollingWindow() {
        let sends = [at("2026-11-01T10:00:00Z"), at("2026-11-03T10:00:00Z"), at("2026-11-05T10:00:00Z")]
        // Gap alone would allow 7 Nov 10:00; the 3-per-7d cap waits until the first send leaves the window.
        #expect(FatigueThrottle.earliest(from: at("2026-11-06T00:00:00Z"), recentSends: sends, policy: policy) == at("2026-11-08T10:00:00Z"))
    }

    @Test func slotCombinesWindowAndThrottle() {
        let office = SendWindow(days: [.mon, .tue, .wed, .thu, .fri], startMinute: 9 * 60, endMinute: 17 * 60)
        // Last send Thursday 16:30 Paris; +2d = Saturday 16:30 → window pushes to Monday 09:00 (08:00 UTC).
        let slot = SendSlot.earliest(from: at("2026-11-26T15:31:00Z"), window: office, zone: TimeZone(identifier: "Europe/Paris")!,
                                     recentSends: [at("2026-11-26T15:30:00Z")], policy: policy)
        #expect(slot == at("2026-11-30T08:00:00Z"))
    }
}

struct TokenBucketTests {
    @Test func spreadsABurst() {
        let t0 = at("2026-11-25T10:00:00Z")
        var bucket = TokenBucket(rate: 2, now: t0)
        let burst = [bucket.take(now: t0), bucket.take(now: t0), bucket.take(now: t0)]
        #expect(burst == [true, true, false])
        let next = bucket.nextAvailable(now: t0)
        #expect(next == t0.addingTimeInterval(0.5))
        let later = [bucket.take(now: t0.addingTimeInterval(0.5)), bucket.take(now: t0.addingTimeInterval(0.6))]
        #expect(later == [true, false])
    }
}

struct StepPlannerTests {
    let seq = NurtureSequence(id: "s", persona: "p", name: "s", steps: [
        Step(id: "a", after: .zero, template: "t"), Step(id: "b", after: .days(3), template: "t"),
        Step(id: "c", after: .days(5), template: "t"),
    ])

    @Test func walksInOrderByID() {
        #expect(StepPlanner.next(in: seq, done: [])?.id == "a")
        #expect(StepPlanner.next(in: seq, done: ["a"])?.id == "b")
        #expect(StepPlanner.next(in: seq, done: ["a", "b", "c"]) == nil)
    }

    @Test func keepsPositionWhenStepsAreRemovedOrAdded() {
        var edited = seq
        edited.steps.remove(at: 1) // "b" removed
        #expect(StepPlanner.next(in: edited, done: ["a", "b"])?.id == "c")
        edited.steps.insert(Step(id: "a2", after: .days(1), template: "t"), at: 1) // added after the lead's position
        #expect(StepPlanner.next(in: edited, done: ["a"])?.id == "a2")
        edited.steps.insert(Step(id: "zero", after: .zero, template: "t"), at: 0) // added before it: not sent retroactively
        #expect(StepPlanner.next(in: edited, done: ["a", "a2"])?.id == "c")
    }

    @Test func dueCountsFromThePreviousResolutionOrEntry() {
        let enrolled = at("2026-11-25T10:00:00Z")
        #expect(StepPlanner.due(seq.steps[1], previousResolvedAt: at("2026-11-26T10:00:00Z"), enrolledAt: enrolled, recontactAfter: nil)
                == at("2026-11-29T10:00:00Z"))
        #expect(StepPlanner.due(seq.steps[0], previousResolvedAt: nil, enrolledAt: enrolled, recontactAfter: at("2027-01-04T00:00:00Z"))
                == at("2027-01-04T00:00:00Z"))
    }
}

struct DispatchPolicyTests {
    let seq = NurtureSequence(id: "s", persona: "p", name: "s",
                              window: SendWindow(days: Set(Weekday.allCases), startMinute: 9 * 60, endMinute: 18 * 60),
                              steps: [Step(id: "a", after: .zero, template: "t"),
                                      Step(id: "b", after: .days(3), template: "t", skipIf: [.clicked(step: "a")]),
                                      Step(id: "c", after: .days(3), template: "t", onlyIf: [.opened(step: "a")])],
                              exits: [ExitRule(trigger: .event("converted")), ExitRule(trigger: .scoreAtLeast(50), action: .handoff)])

    func input(_ step: String, now: String = "2026-11-25T10:00:00Z", change: (inout DispatchInput) -> Void = { _ in }) -> DispatchInput {
        var i = DispatchInput(now: at(now), dueAt: at(now), sequence: seq, stepID: step, leadSuppressed: false, leadScore: 0,
                              eventsSinceEnrollment: [], engagement: Engagement(), recentSends: [], sendsSinceEngagement: 0,
                              zone: TimeZone(identifier: "UTC")!, throttle: ThrottlePolicy())
        change(&i)
        return i
    }

    @Test func sendsWhenNothingStandsInTheWay() {
        #expect(DispatchPolicy.decide(input("a")) == .send)
    }

    @Test func conditionsAreEvaluatedAgainstHumanEngagement() {
        do { let d = DispatchPolicy.decide(input("b") { $0.engagement.clicked = ["a"] }); #expect(d == .skip(reason: "skip_if clicked(a)")) }
        #expect(DispatchPolicy.decide(input("b")) == .send)
        #expect(DispatchPolicy.decide(input("c")) == .skip(reason: "only_if opened(a) not met"))
        do { let d = DispatchPolicy.decide(input("c") { $0.engagement.opened = ["a"] }); #expect(d == .send) }
    }

    @Test func exitsBeatEverything() {
        do { let d = DispatchPolicy.decide(input("a") { $0.eventsSinceEnrollment = ["converted"] }); #expect(d == .exit(reason: "event converted", handoff: false, leadWide: false)) }
        do { let d = DispatchPolicy.decide(input("a") { $0.leadScore = 55 }); #expect(d == .exit(reason: "score 55.0 >= 50.0", handoff: true, leadWide: true)) }
        do { let d = DispatchPolicy.decide(input("a") { $0.leadSuppressed = true; $0.leadScore = 55 }); #expect(d == .exit(reason: "suppressed", handoff: false, leadWide: true)) }
    }

    @Test func sunsetEndsNurturingOfUnengagedLeads() {
        let d = DispatchPolicy.decide(input("a") { $0.sendsSinceEngagement = 6 })
        guard case .exit(let reason, false, true) = d else {
            Issue.record("expected a sunset exit")
            return
        }
        #expect(reason.hasPrefix("sunset"))
    }

    @Test func staleStepsAreSkippedNotSentLate() {
        let d = DispatchPolicy.decide(input("a", now: "2026-11-30T10:00:00Z") { $0.dueAt = at("2026-11-25T10:00:00Z") })
        #expect(d == .skip(reason: "stale: 5d overdue (limit 3d)"))
    }

    @Test func windowAndThrottlePostpone() {
        #expect(DispatchPolicy.decide(input("a", now: "2026-11-25T20:00:00Z")) == .postpone(until: at("2026-11-26T09:00:00Z"), reason: "outside send window"))
        let d = DispatchPolicy.decide(input("a") { $0.recentSends = [at("2026-11-24T12:00:00Z")] })
        #expect(d == .postpone(until: at("2026-11-26T12:00:00Z"), reason: "fatigue throttle"))
    }

    @Test func removedStepIsSkipped() {
        #expect(DispatchPolicy.decide(input("gone")) == .skip(reason: "step removed from the sequence"))
    }
}
