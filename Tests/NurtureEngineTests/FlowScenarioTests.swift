import Foundation
import NurtureCore
import NurtureEngine
import Testing

/// Waits, branches and gotos end to end on the manual clock: real SQLite file, real scheduler, captured mail.
struct FlowScenarioTests {
    static func sequence(_ steps: String) -> [String: String] {
        ["a.yaml": """
            id: cto
            persona: p
            entry: { require: [email, first_name], consent: required }
            steps:
            \(steps)
            """]
    }

    /// The CTO track: an offer, then five days to request a demo; the demo follows a request at once, a nudge the silence.
    static let demoTrack = sequence("""
          - { id: offer, after: 0m, template: step }
          - id: wait-demo
            wait_for: { event: demo_requested, within: 5d }
            then: goto demo
            else: goto nudge
          - { id: nudge, after: 0m, template: step, then: exit }
          - { id: demo, after: 1h, template: step }
        """)

    @Test func aWaitThatTimesOutTakesItsElsePath() async throws {
        let h = try EngineHarness(sequences: Self.demoTrack)
        try await h.addLead("ada@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(entries) == ["cto/offer@2026-11-23T08:00:00Z", "cto/nudge@2026-11-28T08:00:00Z"])
        let passed = entries.filter { $0.kind == .passed }
        #expect(passed.map(\.detail) == ["no demo_requested within 5d → nudge"])
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.enrollments.map(\.state) == [.completed])
        #expect(lead.sends.map { "\($0.stepID):\($0.status)" } == ["nudge:sent", "wait-demo:passed", "offer:sent"])
    }

    @Test func theAwaitedEventMovesTheLeadOnAtOnce() async throws {
        let h = try EngineHarness(sequences: Self.demoTrack)
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-24T10:00:00Z"))
        try await h.event("ada@example.com", "demo_requested")
        entries += try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(entries) == ["cto/offer@2026-11-23T08:00:00Z", "cto/demo@2026-11-24T11:00:00Z"])
        #expect(entries.filter { $0.kind == .passed }.map(\.detail) == ["demo_requested seen → demo"])
    }

    @Test func anUnrelatedEventWakesTheWaitWhichGoesBackToWaiting() async throws {
        let h = try EngineHarness(sequences: Self.demoTrack)
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-24T10:00:00Z"))
        try await h.event("ada@example.com", "webinar_attended")
        entries += try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(entries.contains { $0.kind == .postponed && $0.detail.contains("waiting for demo_requested") })
        #expect(h.sends(entries) == ["cto/offer@2026-11-23T08:00:00Z", "cto/nudge@2026-11-28T08:00:00Z"])
    }

    @Test func aBranchGoesEachWayOnLeadFieldsAndEngagement() async throws {
        let h = try EngineHarness(sequences: Self.sequence("""
              - { id: hello, after: 0m, template: step }
              - id: route
                after: 1d
                if: "country == FR or clicked(hello)"
                then: goto french
              - { id: english, after: 0m, template: step, then: exit }
              - { id: french, after: 0m, template: step }
            """))
        try await h.addLead("fr@example.com", persona: "p", fields: ["first_name": "Ada", "country": "fr"])
        try await h.addLead("de@example.com", persona: "p", fields: ["first_name": "Bob", "country": "DE"])
        try await h.addLead("clicker@example.com", persona: "p", fields: ["first_name": "Cy", "country": "DE"])
        var entries = try await h.run(until: at("2026-11-23T12:00:00Z"))
        try await h.event("clicker@example.com", "click", sequence: "cto", step: "hello")
        entries += try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(entries, "fr@example.com") == ["cto/hello@2026-11-23T08:00:00Z", "cto/french@2026-11-24T08:00:00Z"])
        #expect(h.sends(entries, "de@example.com") == ["cto/hello@2026-11-23T08:00:00Z", "cto/english@2026-11-24T08:00:00Z"])
        #expect(h.sends(entries, "clicker@example.com") == ["cto/hello@2026-11-23T08:00:00Z", "cto/french@2026-11-24T08:00:00Z"])
        let why = entries.filter { $0.kind == .passed && $0.email == "de@example.com" }.map(\.detail)
        #expect(why == ["if country == FR or clicked(hello): false → english"])
    }

    @Test func aLoopThroughAWaitRevisitsAStepWithANewMessageIDUntilTheClick() async throws {
        let h = try EngineHarness(sequences: Self.sequence("""
              - { id: remind, after: 0m, template: step }
              - id: wait-click
                wait_for: { event: "clicked(remind)", within: 2d }
                then: goto thanks
                else: goto remind
              - { id: thanks, after: 0m, template: step }
            """))
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-27T09:00:00Z"))
        #expect(h.sends(entries) == ["cto/remind@2026-11-23T08:00:00Z", "cto/remind@2026-11-25T08:00:00Z", "cto/remind@2026-11-27T08:00:00Z"])
        try await h.event("ada@example.com", "click", sequence: "cto", step: "remind")
        entries += try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(entries).last == "cto/thanks@2026-11-27T09:00:00Z")
        let ids = h.transport.sent.map(\.messageID)
        #expect(Set(ids).count == ids.count && ids.count == 4, "\(ids)")
    }

    @Test func aLoopThatNeverEndsStopsAtTheVisitLimit() async throws {
        let h = try EngineHarness(sequences: Self.sequence("""
              - { id: remind, after: 0m, template: step }
              - id: wait-click
                wait_for: { event: "clicked(remind)", within: 1d }
                else: goto remind
            """))
        try await h.addLead("ada@example.com", persona: "p")
        let entries = try await h.run(until: at("2027-03-01T00:00:00Z"))
        #expect(h.sends(entries).count == StepPlanner.maximumVisits)
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.enrollments.map(\.state) == [.completed])
    }
}
