import Foundation
import NurtureCore
import NurtureEngine
import Testing

/// `window.timezone`: a lead without a zone is windowed in the sequence's zone, then the config's (issue 12, item 8).
struct WindowTimeZoneTests {
    static let steps = "  - { id: welcome, after: 0m, template: step }"

    @Test func aLeadWithoutAZoneIsWindowedInTheSequencesZone() async throws {
        // 08:00 UTC on a Monday is 03:00 in New York: the window opens at 09:00 there, 14:00 UTC.
        let window = "window: { days: [mon, tue, wed, thu, fri], hours: \"09:00-17:00\", timezone: America/New_York }"
        let h = try EngineHarness(sequences: ["a.yaml": SchedulingScenarioTests.sequence("seq", persona: "p", window: window, steps: Self.steps)])
        try await h.addLead("zoneless@example.com", persona: "p")
        try await h.addLead("paris@example.com", persona: "p", timezone: "Europe/Paris")
        let entries = try await h.run(until: at("2026-11-24T00:00:00Z"))
        #expect(h.sends(entries, "zoneless@example.com") == ["seq/welcome@2026-11-23T14:00:00Z"])
        // The lead's own zone still comes first: 09:00 in Paris is 08:00 UTC.
        #expect(h.sends(entries, "paris@example.com") == ["seq/welcome@2026-11-23T08:00:00Z"])
    }

    @Test func withoutAWindowZoneTheConfigsZoneApplies() async throws {
        let window = "window: { days: [mon, tue, wed, thu, fri], hours: \"09:00-17:00\" }"
        let h = try EngineHarness(sequences: ["a.yaml": SchedulingScenarioTests.sequence("seq", persona: "p", window: window, steps: Self.steps)])
        try await h.addLead("zoneless@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-11-24T00:00:00Z"))
        #expect(h.sends(entries) == ["seq/welcome@2026-11-23T09:00:00Z"]) // the harness config says UTC
    }

    @Test func theZoneRuleIsLeadThenWindowThenDefault() {
        let w = SendWindow(days: [.mon], startMinute: 0, endMinute: 60, timeZone: "Asia/Tokyo")
        #expect(w.zoneName(lead: "Europe/Paris", default: "UTC") == "Europe/Paris")
        #expect(w.zoneName(lead: nil, default: "UTC") == "Asia/Tokyo")
        #expect(SendWindow.always.zoneName(lead: nil, default: "UTC") == "UTC")
    }
}
