import Foundation
import Testing
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureMail

/// The whole lifecycle on a manual clock, real SQLite and the real scheduler: sales' answer moves the lead, a
/// won lead gets only the customer sequence and then the ambassador one, a recycled lead comes back after its
/// cooldown, a rejected one is never mailed again, and an unanswered hand-off is re-notified once on the sales
/// team's calendar.
struct LifecycleScenarioTests {
    static let sequences = [
        "track.yaml": SchedulingScenarioTests.sequence("track", persona: "p", steps: SchedulingScenarioTests.threeSteps),
        "onboarding.yaml": """
            id: onboarding
            persona: customer
            entry: { stage: customer }
            steps:
              - { id: welcome, after: 0m, template: step }
              - { id: tips, after: 3d, template: step }
              - { id: check-in, after: 14d, template: step }
            """,
        "ambassador.yaml": """
            id: ambassador
            persona: ambassador
            entry: { stage: ambassador }
            steps:
              - { id: review, after: 0m, template: step }
            """,
    ]

    static func config(outcomes: String, sla: String = "") -> String {
        """
        scoring:
          half_life: none
          points: { demo_requested: 30, referred: 30, reviewed: 20 }
          thresholds:
            - { at: 25, handoff: true }
            - { at: 40, when: "stage == customer", stage: ambassador, enroll: ambassador }
        handoff:
          email: sales@example.com
        \(sla)
          outcomes:
        \(outcomes)
        """
    }

    /// The lead's one hand-off id, once the threshold crossed.
    func handoffID(_ h: EngineHarness, _ email: String) async throws -> Int64 {
        try #require(try await h.store.lead(try EmailAddress(validating: email))?.handoffs.first?.crossing)
    }

    func answer(_ h: EngineHarness, _ id: Int64, _ outcome: String, reason: String? = nil) async throws -> HandoffAnswerResult {
        try await HandoffAnswerRecorder(store: h.store, catalog: h.holder).answer(id: String(id), outcome: outcome, reason: reason, at: h.clock.now())
    }

    @Test func aWonLeadGetsOnlyTheCustomerSequenceThenBecomesAnAmbassador() async throws {
        let h = try EngineHarness(sequences: Self.sequences, extra: Self.config(outcomes: "    won: { stage: customer, enroll: onboarding, score: reset }"))
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-24T00:00:00Z"))
        #expect(h.sends(entries) == ["track/welcome@2026-11-23T08:00:00Z"])
        try await h.event("ada@example.com", "demo_requested")
        let id = try await handoffID(h, "ada@example.com")
        let r = try await answer(h, id, "won", reason: "signed the yearly plan")
        #expect(r.changed && r.stage == .customer && r.score == 0)
        #expect(try await answer(h, id, "won").changed == false)
        entries = try await h.run(until: at("2026-11-28T00:00:00Z"))
        // The prospect track ended at the hand-off; the customer sequence starts at once.
        #expect(h.sends(entries) == ["onboarding/welcome@2026-11-24T00:00:00Z", "onboarding/tips@2026-11-27T00:00:00Z"])
        // Customer events feed the ambassador threshold (`when: stage == customer`).
        try await h.event("ada@example.com", "referred")
        try await h.event("ada@example.com", "reviewed")
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.lead.stage == .ambassador && lead.lead.score == 50)
        entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        // The ambassador sequence starts; onboarding's check-in is not sent to an ambassador (its gate is customer).
        #expect(h.sends(entries) == ["ambassador/review@2026-11-28T00:00:00Z"])
        let after = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(after.enrollments.first { $0.sequenceID == "onboarding" }?.endReason?.hasPrefix("stage ambassador") == true)
        #expect(after.sends.filter { $0.sequenceID == "track" && $0.status == .sent }.count == 1)
        #expect(after.ledger.contains { $0.cause.contains("sales answered won (signed the yearly plan)") })
    }

    @Test func aRecycledLeadReentersItsSequenceAfterTheCooldownAndARejectedOneIsNeverMailedAgain() async throws {
        let h = try EngineHarness(sequences: Self.sequences, extra: Self.config(outcomes: "    recycled: { enroll: track, after: 30d }"))
        try await h.addLead("ada@example.com", persona: "p")
        try await h.addLead("bob@example.com", persona: "p", fields: ["first_name": "Bob"])
        try await h.addLead("carol@example.com", persona: "p", fields: ["first_name": "Carol"])
        _ = try await h.run(until: at("2026-11-24T00:00:00Z"))
        for lead in ["ada", "bob", "carol"] { try await h.event("\(lead)@example.com", "demo_requested") }
        #expect(try await answer(h, try await handoffID(h, "ada@example.com"), "recycled", reason: "not ready").stage == .lead)
        #expect(try await answer(h, try await handoffID(h, "bob@example.com"), "rejected", reason: "not a fit").stage == .disqualified)
        // Lost: back to stage lead (the default), nurturing stays stopped, nothing enrolls.
        #expect(try await answer(h, try await handoffID(h, "carol@example.com"), "lost", reason: "chose a competitor").stage == .lead)
        let entries = try await h.run(until: at("2027-01-31T00:00:00Z"))
        // Ada: nothing during the 30 days, then the track again from its first step; Bob: nothing, ever.
        #expect(h.sends(entries, "ada@example.com") == ["track/welcome@2026-12-24T00:00:00Z", "track/second@2026-12-27T00:00:00Z",
                                                        "track/third@2027-01-01T00:00:00Z"])
        #expect(h.sends(entries, "bob@example.com").isEmpty && h.sends(entries, "carol@example.com").isEmpty)
        // A disqualified lead that engages again is not handed to sales again.
        try await h.event("bob@example.com", "demo_requested")
        let bob = try #require(try await h.store.lead(try EmailAddress(validating: "bob@example.com")))
        #expect(bob.lead.stage == .disqualified && bob.handoffs.count == 1)
    }

    @Test func anUnansweredHandoffIsRenotifiedOnceTwoBusinessDaysLaterAcrossAWeekendAndTheAutumnChange() async throws {
        // Friday 23 October 2026, 15:00 in Paris (13:00 UTC, CEST); two business days later is Tuesday 27 October, 15:00
        // in Paris, which is 14:00 UTC: the clocks went back on Sunday 25.
        let sla = "  sla: 2 business days\n  time_zone: Europe/Paris"
        let h = try EngineHarness(sequences: Self.sequences, start: at("2026-10-23T13:00:00Z"), extra: Self.config(outcomes: "    {}", sla: sla))
        try await h.addLead("ada@example.com", persona: "p")
        try await h.addLead("bob@example.com", persona: "p", fields: ["first_name": "Bob"])
        _ = try await h.run(until: at("2026-10-23T13:00:00Z"))
        try await h.event("ada@example.com", "demo_requested")
        try await h.event("bob@example.com", "demo_requested")
        let service = HandoffService(store: h.store, catalog: h.holder, transport: h.transport, clock: h.clock, secret: nil, pollInterval: 60,
                                     logger: .init(label: "test"))
        func mailToSales() -> [String] { h.transport.sent.filter { $0.recipient.value == "sales@example.com" }.map(\.subject) }
        try await TransportService.withRunning(h.transport) {
            _ = await service.tick(now: h.clock.now())
            #expect(mailToSales().count == 2)
            _ = try await answer(h, try await handoffID(h, "bob@example.com"), "accepted")
            for t in ["2026-10-24T13:00:00Z", "2026-10-26T13:00:00Z", "2026-10-27T13:59:59Z"] {
                h.clock.advance(to: at(t))
                _ = await service.tick(now: h.clock.now())
            }
            #expect(mailToSales().count == 2)
            h.clock.advance(to: at("2026-10-27T14:00:00Z"))
            _ = await service.tick(now: h.clock.now())
            _ = await service.tick(now: h.clock.now())
            h.clock.advance(to: at("2026-11-10T14:00:00Z"))
            _ = await service.tick(now: h.clock.now())
        }
        // Once, for the unanswered one only.
        #expect(mailToSales().count == 3)
        #expect(mailToSales().last?.hasPrefix("Overdue: no answer yet for ada@example.com") == true)
        let stats = HandoffStats.total(try await h.store.handoffStats(now: h.clock.now()))
        #expect(stats.handedOff == 2 && stats.awaiting == 1 && stats.overdue == 1 && stats.outcomes[.accepted] == 1)
    }
}
