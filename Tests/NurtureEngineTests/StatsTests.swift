import Foundation
import NurtureCore
import NurtureStore
import Testing

/// `nurture stats` figures on a seeded database, against counts worked out by hand.
struct StatsTests {
    static let sequence = """
        id: seq
        persona: p
        steps:
          - { id: one, after: 0m, template: step }
          - { id: two, after: 1d, template: step }
        """

    @Test func figuresMatchWhatHappened() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence])
        for name in ["a", "b", "c"] { try await h.addLead("\(name)@example.com", persona: "p") }
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        #expect(h.transport.sent.count == 3)
        let scoring = h.holder.current.scoringContext
        func message(_ email: String) async throws -> TrackedMessage {
            let id = try #require(h.transport.sent.first { $0.recipient.value == email }?.outboxID)
            return try #require(try await h.store.trackedMessage(id))
        }
        let a = try await message("a@example.com"), b = try await message("b@example.com"), c = try await message("c@example.com")
        let t = at("2026-11-23T10:00:00Z")
        _ = try await h.store.recordEngagements([
            TrackedEvent(kind: .open, message: a, at: t, machineReason: nil),
            TrackedEvent(kind: .open, message: a, at: t.addingTimeInterval(60), machineReason: nil),  // same person again: one unique open
            TrackedEvent(kind: .open, message: b, at: t, machineReason: "opened 1s after delivery"),
            TrackedEvent(kind: .click, message: a, link: 0, at: t.addingTimeInterval(120), machineReason: nil),
        ], burstWindow: 5, scoring: scoring)
        _ = try await h.store.unsubscribe(outboxID: c.outboxID, at: t, via: "test", scoring: scoring)
        h.clock.advance(to: at("2026-11-25T08:00:00Z"))
        try await h.event("a@example.com", "converted")                     // 2 days after a enrolled (23 Nov 08:00)
        _ = try await h.run(until: at("2026-11-30T00:00:00Z"))

        let stats = try await h.store.stats(since: nil)
        let seq = try #require(stats.first { $0.sequenceID == "seq" })
        #expect(seq.enrolled == 3 && seq.converted == 1 && seq.handedOff == 0)
        #expect(seq.medianToConvert == 172_800.0)
        let one = try #require(seq.steps.first { $0.stepID == "one" }), two = try #require(seq.steps.first { $0.stepID == "two" })
        #expect(one.sent == 3 && one.uniqueOpens == 1 && one.machineOpens == 1 && one.uniqueClicks == 1 && one.clicks == 1)
        #expect(one.unsubscribes == 1 && one.bounced == 0)
        #expect(one.rate(one.uniqueOpens) == 1.0 / 3)
        #expect(two.sent == 2)   // c unsubscribed: its second step was cancelled
        #expect(try await h.store.stats(since: at("2026-12-01T00:00:00Z")).allSatisfy { $0.enrolled == 0 && $0.steps.isEmpty })
    }
}

/// Long silence costs points once per silence, and only a human signal starts a new one.
struct InactivityTests {
    @Test func silentLeadsAreChargedOncePerSilence() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": StatsTests.sequence])
        try await h.addLead("quiet@example.com", persona: "p")
        try await h.addLead("busy@example.com", persona: "p")
        _ = try await h.run(until: at("2026-12-10T00:00:00Z"))
        try await h.event("busy@example.com", "visited_pricing")              // engaged on 10 Dec
        _ = try await h.run(until: at("2027-01-25T00:00:00Z"))          // quiet: 63 days since 23 Nov
        _ = try await h.run(until: at("2027-03-20T00:00:00Z"))          // still quiet; busy silent since 10 Dec
        _ = try await h.scheduler.tick(now: h.clock.now())              // the daemon's loop turns even with nothing due
        let quiet = try #require(try await h.store.lead(try EmailAddress(validating: "quiet@example.com")))
        let charges = quiet.ledger.filter { $0.cause.hasPrefix("no human open, click or event for") }
        #expect(charges.count == 1)
        #expect(charges.first?.delta == -10)
        let busy = try #require(try await h.store.lead(try EmailAddress(validating: "busy@example.com")))
        #expect(busy.ledger.filter { $0.cause.hasPrefix("no human open") }.count == 1)
        #expect(busy.ledger.first { $0.cause.hasPrefix("no human open") }.map { $0.at > at("2027-02-07T00:00:00Z") } == true)
    }
}

/// A threshold's `enroll:` puts the lead in another sequence, whatever its persona; the scheduler does it.
struct ThresholdEnrollmentTests {
    @Test func crossingEnrollsIntoTheNamedSequence() async throws {
        let h = try EngineHarness(sequences: [
            "main.yaml": "id: main\npersona: p\nsteps:\n  - { id: one, after: 0m, template: step }\n  - { id: two, after: 30d, template: step }\n",
            "vip.yaml": "id: vip\npersona: vip_only\nsteps:\n  - { id: welcome, after: 1h, template: step }\n",
        ], extra: "scoring:\n  points: { visited_pricing: 10 }\n  thresholds:\n    - { at: 10, stage: mql, enroll: vip }\n")
        try await h.addLead("ada@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        try await h.event("ada@example.com", "visited_pricing")
        let entries = try await h.run(until: at("2026-11-24T09:00:00Z"))
        #expect(h.sends(entries, "ada@example.com") == ["vip/welcome@2026-11-23T10:00:00Z"])
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.lead.stage == .mql)
        #expect(Set(lead.enrollments.map(\.sequenceID)) == ["main", "vip"])
        #expect(lead.ledger.contains { $0.cause == "enroll in vip" })
    }
}
