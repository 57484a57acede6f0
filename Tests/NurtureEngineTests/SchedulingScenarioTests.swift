import Foundation
import NurtureCore
import NurtureEngine
import Testing

/// The scheduler end to end on a manual clock: real SQLite file, real templates, a capturing transport.
struct SchedulingScenarioTests {
    static func sequence(_ id: String, persona: String, priority: Int = 0, window: String = "", steps: String, exit: String = "") -> String {
        """
        id: \(id)
        persona: \(persona)
        priority: \(priority)
        entry: { require: [email, first_name], consent: required }
        \(window)
        steps:
        \(steps)
        \(exit)
        """
    }

    static let threeSteps = """
          - { id: welcome, after: 0m, template: step }
          - { id: second, after: 3d, template: step }
          - { id: third, after: 5d, template: step }
        """

    @Test func delaysCountFromThePreviousActualSend() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: Self.threeSteps)])
        try await h.addLead("ada@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(entries) == ["seq/welcome@2026-11-23T08:00:00Z", "seq/second@2026-11-26T08:00:00Z", "seq/third@2026-12-01T08:00:00Z"])
        #expect(h.transport.sent.count == 3)
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.enrollments.map(\.state) == [.completed])
        #expect(lead.sends.map { "\($0.stepID):\($0.status)" } == ["third:sent", "second:sent", "welcome:sent"])
    }

    @Test func leadsFailingTheEntryGateAreNotEnrolled() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: Self.threeSteps)])
        try await h.addLead("nameless@example.com", persona: "p", fields: [:])
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(entries.isEmpty)
        #expect(try await h.store.lead(try EmailAddress(validating: "nameless@example.com"))?.enrollments.isEmpty == true)
    }

    @Test func recontactAfterDelaysTheStart() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: Self.threeSteps)])
        var lead = Lead(email: try EmailAddress(validating: "later@example.com"), persona: "p", fields: ["first_name": "L"],
                        consent: Consent(source: "t", at: h.clock.now()))
        lead.recontactAfter = at("2027-01-04T09:00:00Z")
        _ = try await h.store.upsert([lead], now: h.clock.now())
        let entries = try await h.run(until: at("2027-01-05T00:00:00Z"))
        #expect(h.sends(entries) == ["seq/welcome@2027-01-04T09:00:00Z"])
    }

    @Test func windowInTheLeadsZoneAcrossDaylightSavingChanges() async throws {
        let window = "window: { days: [mon, tue, wed, thu, fri], hours: \"09:00-17:30\" }"
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", window: window, steps: """
              - { id: welcome, after: 0m, template: step }
              - { id: second, after: 1d, template: step }
            """)], start: at("2026-03-27T17:00:00Z"))
        try await h.addLead("paris@example.com", persona: "p", timezone: "Europe/Paris")
        try await h.addLead("ny@example.com", persona: "p", timezone: "America/New_York")
        let entries = try await h.run(until: at("2026-04-10T00:00:00Z"))
        // Paris: Friday 18:00 CET is closed → Monday 30 March 09:00 CEST (07:00 UTC, after the spring change),
        // then +1d → Tuesday 09:00 CEST.
        #expect(h.sends(entries, "paris@example.com") == ["seq/welcome@2026-03-30T07:00:00Z", "seq/second@2026-03-31T07:00:00Z"])
        // New York (already on EDT since 8 March): Friday 13:00 EDT is open → now; +1d is Saturday → Monday 09:00 EDT.
        #expect(h.sends(entries, "ny@example.com") == ["seq/welcome@2026-03-27T17:00:00Z", "seq/second@2026-03-30T13:00:00Z"])
        let postponed = entries.filter { $0.kind == .postponed }.map(\.detail)
        #expect(postponed.allSatisfy { $0.hasSuffix("(outside send window)") } && postponed.count == 2)
    }

    @Test func skipIfAndOnlyIfAreEvaluatedWhenTheStepFallsDue() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: """
              - { id: welcome, after: 0m, template: step }
              - { id: case-study, after: 3d, template: step, skip_if: clicked(welcome) }
              - { id: webinar, after: 2d, template: step, only_if: opened(welcome) }
              - { id: last, after: 1d, template: step, only_if: clicked(case-study) }
            """)])
        try await h.addLead("clicker@example.com", persona: "p")
        try await h.addLead("silent@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-24T00:00:00Z"))
        try await h.event("clicker@example.com", "click", sequence: "seq", step: "welcome")
        try await h.event("silent@example.com", "open", sequence: "seq", step: "welcome", machine: true) // a prefetch, not a person
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        // The clicker skips the case study at its due time (26 Nov) and the webinar counts 2d from there.
        #expect(h.sends(entries, "clicker@example.com") == ["seq/webinar@2026-11-28T08:00:00Z"])
        // The silent lead gets the case study; the machine open does not satisfy only_if.
        #expect(h.sends(entries, "silent@example.com") == ["seq/case-study@2026-11-26T08:00:00Z"])
        let skipped = entries.filter { $0.kind == .skipped }.map { "\($0.email) \($0.stepID): \($0.detail)" }
        #expect(skipped.contains("clicker@example.com case-study: skip_if clicked(welcome)"))
        #expect(skipped.contains("silent@example.com webinar: only_if opened(welcome) not met"))
    }

    @Test func anExitEventEndsTheEnrollmentAtOnce() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: Self.threeSteps,
                                                                      exit: "exit:\n  - on: converted\n  - { when: score >= 50, then: handoff }")])
        try await h.addLead("buyer@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-24T00:00:00Z"))
        try await h.event("buyer@example.com", "converted")
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(entries).isEmpty)
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "buyer@example.com")))
        #expect(lead.enrollments.first?.state == .exited)
        #expect(lead.enrollments.first?.endReason == "event converted")
        #expect(h.transport.sent.count == 1)
    }

    @Test func fatigueThrottleSpacesSendsAcrossSequencesAndPriorityDecides() async throws {
        let steps = Self.threeSteps.replacingOccurrences(of: "{ id: welcome, after: 0m", with: "{ id: welcome, after: 1h")
        let h = try EngineHarness(sequences: [
            "a.yaml": Self.sequence("low", persona: "a", priority: 1, steps: steps),
            "b.yaml": Self.sequence("high", persona: "b", priority: 9, steps: steps),
        ], throttle: "  min_gap: 2d\n  max: 2 per 7d")
        // The lead enters "low" as persona a, then is re-qualified as persona b and enters "high" too;
        // both first steps fall due at the same moment.
        try await h.addLead("both@example.com", persona: "a")
        _ = try await h.scheduler.tick(now: h.clock.now())
        try await h.addLead("both@example.com", persona: "b")
        let entries = try await h.run(until: at("2027-01-31T00:00:00Z"))
        let sends = h.sends(entries)
        #expect(sends.first == "high/welcome@2026-11-23T09:00:00Z") // priority wins the first slot
        #expect(sends.count == 6)                                   // nothing dropped
        let times = entries.filter { $0.kind == .sent }.map(\.at)
        for (a, b) in zip(times, times.dropFirst()) { #expect(b.timeIntervalSince(a) >= 2 * 86_400) }
        for t in times { #expect(times.filter { $0 > t.addingTimeInterval(-7 * 86_400) && $0 <= t }.count <= 2) }
        // Order within each sequence is kept.
        #expect(sends.filter { $0.hasPrefix("low/") }.map { $0.split(separator: "@")[0] } == ["low/welcome", "low/second", "low/third"])
        #expect(entries.contains { $0.kind == .postponed && $0.detail.hasSuffix("(fatigue throttle)") })
    }

    @Test func globalAndPerDomainRatesSpreadABurst() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: "  - { id: only, after: 0m, template: step }")],
                                  throttle: "  rate: 4/s\n  domain_rate: 1/s")
        for i in 0..<8 { try await h.addLead("user\(i)@big.example", persona: "p") }
        for i in 0..<8 { try await h.addLead("user\(i)@other\(i).example", persona: "p") }
        let start = h.clock.now()
        let entries = try await h.run(until: start.addingTimeInterval(60))
        let sent = entries.filter { $0.kind == .sent }
        #expect(sent.count == 16)
        // Never more than 4 in any second overall, never more than 1 per second to big.example.
        for s in sent {
            #expect(sent.filter { $0.at >= s.at && $0.at < s.at.addingTimeInterval(1) }.count <= 4)
        }
        let big = sent.filter { $0.email.hasSuffix("@big.example") }.map(\.at).sorted()
        for (a, b) in zip(big, big.dropFirst()) { #expect(b.timeIntervalSince(a) >= 0.999) }
        #expect(big.last!.timeIntervalSince(start) >= 7)
    }

    @Test func perDomainConcurrencyReachesTheTransport() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: "  - { id: only, after: 0m, template: step }")],
                                  throttle: "  domain_concurrency: 2", concurrency: 4)
        for i in 0..<6 { try await h.addLead("user\(i)@big.example", persona: "p") }
        for i in 0..<2 { try await h.addLead("user\(i)@small.example", persona: "p") }
        _ = try await h.run(until: h.clock.now().addingTimeInterval(10))
        #expect(h.transport.sent.count == 8)
        #expect(!h.transport.perDomainLimits.isEmpty && h.transport.perDomainLimits.allSatisfy { $0 == 2 })
    }

    @Test func sunsetRemovesUnengagedLeads() async throws {
        let steps = (1...6).map { "  - { id: s\($0), after: 1d, template: step }" }.joined(separator: "\n")
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: steps)], throttle: "  sunset_after: 3")
        try await h.addLead("cold@example.com", persona: "p")
        try await h.addLead("warm@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-26T12:00:00Z"))
        try await h.event("warm@example.com", "open", sequence: "seq", step: "s3")
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.transport.sent.filter { $0.recipient.value == "cold@example.com" }.count == 3)
        #expect(h.transport.sent.filter { $0.recipient.value == "warm@example.com" }.count == 6)
        let exit = try #require(entries.first { $0.kind == .exited && $0.email == "cold@example.com" })
        #expect(exit.detail.hasPrefix("sunset: 3 emails without a human open or click"))
    }

    @Test func afterDowntimeStaleStepsAreSkippedAndTheRestResume() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: Self.threeSteps)], throttle: "  stale_after: 1d")
        try await h.addLead("ada@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))   // welcome sent on 23 Nov
        h.clock.advance(to: at("2026-11-28T08:00:00Z"))          // the daemon was down from 23 Nov to 28 Nov
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        // "second" was due 26 Nov: 2 days overdue > 1d → skipped; "third" counts 5d from the skip.
        #expect(entries.first { $0.kind == .skipped }?.detail == "stale: 2d overdue (limit 1d)")
        let shown = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(shown.sends.first { $0.stepID == "second" }?.reason == "stale: 2d overdue (limit 1d)")
        #expect(h.sends(entries) == ["seq/third@2026-12-03T08:00:00Z"])
    }

    @Test func overdueSendsAfterDowntimeAreSpreadByTheRate() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: "  - { id: only, after: 1h, template: step }")],
                                  throttle: "  rate: 2/s\n  stale_after: 1d")
        for i in 0..<10 { try await h.addLead("u\(i)@d\(i).example", persona: "p") }
        _ = try await h.scheduler.tick(now: h.clock.now())       // enrolled; sends due in an hour
        h.clock.advance(by: 6 * 3600)                             // down for six hours
        let start = h.clock.now()
        let entries = try await h.run(until: start.addingTimeInterval(60))
        let times = entries.filter { $0.kind == .sent }.map { $0.at.timeIntervalSince(start) }
        #expect(times.count == 10)
        #expect(times.max()! >= 4)                                // 10 messages at 2/s take at least 4 s, not one burst
    }

    @Test func hardBounceSuppressesAndTemporaryFailureRetriesWithBackoff() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence("seq", persona: "p", steps: Self.threeSteps)])
        try await h.addLead("gone@example.com", persona: "p")
        try await h.addLead("busy@example.com", persona: "p")
        h.transport.script("gone@example.com", [.permanentFailure("550 5.1.1 no such user", recipientRejected: true)])
        h.transport.script("busy@example.com", [.temporaryFailure("451 4.3.0 try later"), .temporaryFailure("421 busy")])
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(try await h.store.isSuppressed(try EmailAddress(validating: "gone@example.com")))
        #expect(h.sends(entries, "gone@example.com").isEmpty)
        let deferrals = entries.filter { $0.kind == .deferred && $0.email == "busy@example.com" }.map(\.at)
        #expect(deferrals.count == 2)
        let busySends = entries.filter { $0.kind == .sent && $0.email == "busy@example.com" }.map(\.at)
        #expect(busySends.count == 3)
        // First retry 4–6 min after the first attempt (300 s ± 20 %), the second 8–12 min after that.
        let gap1 = deferrals[1].timeIntervalSince(deferrals[0]), gap2 = busySends[0].timeIntervalSince(deferrals[1])
        #expect((240...360).contains(gap1) && (480...720).contains(gap2), "\(gap1) \(gap2)")
    }
}
