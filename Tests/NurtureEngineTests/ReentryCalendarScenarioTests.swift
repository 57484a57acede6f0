import Foundation
import NurtureCore
import NurtureEngine
import Testing

/// Re-entry, blackout dates, transactional steps and the recipient's own choices (leave, pause), end to end on the
/// manual clock: real SQLite file, real scheduler, captured mail.
struct ReentryCalendarScenarioTests {
    static func sequence(_ head: String = "", _ steps: String) -> [String: String] {
        ["a.yaml": """
            id: track
            persona: p
            \(head)
            steps:
            \(steps)
            """]
    }

    static let twoSteps = """
          - { id: one, after: 0m, template: step }
          - { id: two, after: 2d, template: step }
        """

    func lead(_ h: EngineHarness, _ email: String) async throws -> StoredLead {
        try #require(try await h.store.lead(try EmailAddress(validating: email)))
    }

    func firstSent(_ h: EngineHarness, _ email: String) async throws -> Int64 {
        try #require(try await lead(h, email).sends.last { $0.status == .sent }?.outboxID)
    }

    @Test func aLeadReentersAfterTheCooldownWithNewMessageIDsButNotBefore() async throws {
        let h = try EngineHarness(sequences: Self.sequence("reenter: { after: 90d }", Self.twoSteps))
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-12-01T00:00:00Z"))
        #expect(h.sends(entries) == ["track/one@2026-11-23T08:00:00Z", "track/two@2026-11-25T08:00:00Z"])
        // Completed on 2026-11-25: 89 days later nothing happens.
        entries += try await h.run(until: at("2027-02-22T08:00:00Z"))
        h.clock.advance(to: at("2027-02-22T08:00:00Z"))
        entries += try await h.run(until: at("2027-02-22T09:00:00Z"))
        #expect(h.sends(entries).count == 2)
        // Past 90 days the lead starts over.
        h.clock.advance(to: at("2027-02-23T09:00:00Z"))
        entries += try await h.run(until: at("2027-03-10T00:00:00Z"))
        #expect(h.sends(entries) == ["track/one@2026-11-23T08:00:00Z", "track/two@2026-11-25T08:00:00Z",
                                     "track/one@2027-02-23T09:00:00Z", "track/two@2027-02-25T09:00:00Z"])
        let ids = h.transport.sent.map(\.messageID)
        #expect(Set(ids).count == 4, "\(ids)")
        let stored = try await lead(h, "ada@example.com")
        #expect(stored.enrollments.map(\.state) == [.completed, .completed])
    }

    @Test func aLeadThatUnsubscribedOrLeftNeverReenters() async throws {
        let h = try EngineHarness(sequences: Self.sequence("reenter: { after: 30d }", Self.twoSteps))
        try await h.addLead("ada@example.com", persona: "p")
        try await h.addLead("bob@example.com", persona: "p")
        try await h.addLead("cy@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-24T00:00:00Z"))
        let scoring = h.holder.current.scoringContext
        #expect(try await h.store.unsubscribe(outboxID: try await firstSent(h, "ada@example.com"), at: h.clock.now(), via: "test",
                                              scoring: scoring) == .unsubscribed)
        #expect(try await h.store.recordChoice(.leaveSequence, outboxID: try await firstSent(h, "bob@example.com"), at: h.clock.now(),
                                               scoring: scoring) == .left(sequenceID: "track"))
        entries += try await h.run(until: at("2026-12-01T00:00:00Z"))
        h.clock.advance(to: at("2027-01-15T00:00:00Z"))
        entries += try await h.run(until: at("2027-02-01T00:00:00Z"))
        #expect(h.sends(entries, "ada@example.com") == ["track/one@2026-11-23T08:00:00Z"])
        #expect(h.sends(entries, "bob@example.com") == ["track/one@2026-11-23T08:00:00Z"])
        // Cy completed and came back after the cooldown.
        #expect(h.sends(entries, "cy@example.com").count == 4)
        let bob = try await lead(h, "bob@example.com")
        #expect(bob.enrollments.map { "\($0.state):\($0.endReason ?? "")" } == ["exited:left by the recipient"])
        #expect(bob.sends.first { $0.stepID == "two" }?.status == .cancelled)
        #expect(bob.suppression == nil)
        #expect(bob.consentHistory.map(\.type) == ["sequence_left"])
    }

    @Test func withoutReenterALeadEntersOnce() async throws {
        let h = try EngineHarness(sequences: Self.sequence("", Self.twoSteps))
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-12-01T00:00:00Z"))
        h.clock.advance(to: at("2028-01-01T00:00:00Z"))
        entries += try await h.run(until: at("2028-02-01T00:00:00Z"))
        #expect(h.sends(entries).count == 2)
    }

    /// Paris leaves summer time on Sunday 25 October 2026. A step due on Saturday 24 waits for the window; Monday 26
    /// is a blackout date, so it goes out on Tuesday 27 at 09:00 local, 08:00 UTC (09:30 local was 07:30 UTC on Friday).
    @Test func blackoutDatesAreSkippedInTheLeadsZoneAcrossADSTChange() async throws {
        let h = try EngineHarness(sequences: Self.sequence("""
            window: { days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", except: [2026-10-26, "2026-12-25"] }
            """, """
              - { id: one, after: 0m, template: step }
              - { id: two, after: 1d, template: step }
            """), start: at("2026-10-23T07:30:00Z"))
        try await h.addLead("ada@example.com", persona: "p", timezone: "Europe/Paris")
        let entries = try await h.run(until: at("2026-11-01T00:00:00Z"))
        #expect(h.sends(entries) == ["track/one@2026-10-23T07:30:00Z", "track/two@2026-10-27T08:00:00Z"])
        #expect(entries.contains { $0.kind == .postponed && $0.detail.contains("2026-10-27T08:00:00Z") && $0.detail.contains("outside send window") })
    }

    @Test func aTransactionalStepBypassesTheThrottleAndSunsetButNotSuppression() async throws {
        let sequences = Self.sequence("", """
              - { id: nurture, after: 0m, template: step }
              - { id: download, after: 1m, template: step, class: transactional }
              - { id: later, after: 1m, template: step }
            """)
        let h = try EngineHarness(sequences: sequences, throttle: "min_gap: 1d\nsunset_after: 1")
        try await h.addLead("ada@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-12-01T00:00:00Z"))
        // The download goes a minute after the nurture mail despite min_gap 1d and a sunset after 1 unanswered mail;
        // the next nurture step meets the sunset.
        #expect(h.sends(entries) == ["track/nurture@2026-11-23T08:00:00Z", "track/download@2026-11-23T08:01:00Z"])
        #expect(entries.contains { $0.kind == .exited && $0.stepID == "later" && $0.detail.hasPrefix("sunset") })

        let s = try EngineHarness(sequences: Self.sequence("", """
              - { id: nurture, after: 0m, template: step }
              - { id: download, after: 1h, template: step, class: transactional }
            """))
        try await s.addLead("bob@example.com", persona: "p")
        var sEntries = try await s.run(until: at("2026-11-23T08:10:00Z"))
        _ = try await s.store.unsubscribe(outboxID: try await firstSent(s, "bob@example.com"), at: s.clock.now(), via: "test",
                                          scoring: s.holder.current.scoringContext)
        sEntries += try await s.run(until: at("2026-12-01T00:00:00Z"))
        #expect(s.sends(sEntries) == ["track/nurture@2026-11-23T08:00:00Z"])
    }

    @Test func aPausedLeadsStepsArePostponedToThePausesEndNotDropped() async throws {
        let h = try EngineHarness(sequences: Self.sequence("", """
              - { id: one, after: 0m, template: step }
              - { id: two, after: 2d, template: step }
              - { id: receipt, after: 0m, template: step, class: transactional }
            """), throttle: "stale_after: 7d")
        try await h.addLead("ada@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-23T12:00:00Z"))
        let result = try await h.store.recordChoice(.pause(days: 30), outboxID: try await firstSent(h, "ada@example.com"), at: h.clock.now(),
                                                    scoring: h.holder.current.scoringContext)
        #expect(result == .paused(until: at("2026-12-23T12:00:00Z")))
        // Pressing it again changes nothing and records nothing more.
        #expect(try await h.store.recordChoice(.pause(days: 30), outboxID: try await firstSent(h, "ada@example.com"), at: h.clock.now(),
                                               scoring: h.holder.current.scoringContext) == result)
        entries += try await h.run(until: at("2027-01-31T00:00:00Z"))
        // Step two, due on 25 November, waits for the pause's end (past stale_after, yet not dropped).
        #expect(h.sends(entries) == ["track/one@2026-11-23T08:00:00Z", "track/two@2026-12-23T12:00:00Z", "track/receipt@2026-12-23T12:00:00Z"])
        #expect(entries.contains { $0.kind == .postponed && $0.detail.contains("paused by the recipient until 2026-12-23T12:00:00Z") })
        let stored = try await lead(h, "ada@example.com")
        #expect(stored.pausedUntil == at("2026-12-23T12:00:00Z"))
        #expect(stored.consentHistory.map { "\($0.type) \($0.until ?? "")" } == ["paused 2026-12-23T12:00:00Z"])
        #expect(stored.suppression == nil)
    }
}
