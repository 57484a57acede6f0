import Foundation
import Logging
import NurtureCore
import NurtureEngine
import Testing

/// SIGHUP reload semantics: leads keep their place by step id; a bad reload changes nothing.
struct ReloadTests {
    static let logger = Logger(label: "test")

    @Test func removedStepIsSkippedAndAddedStepIsPickedUp() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": SchedulingScenarioTests.sequence("seq", persona: "p", steps: """
              - { id: a, after: 0m, template: step }
              - { id: b, after: 2d, template: step }
              - { id: c, after: 2d, template: step }
            """)])
        try await h.addLead("ada@example.com", persona: "p")
        let first = try await h.run(until: at("2026-11-24T00:00:00Z"))
        #expect(h.sends(first) == ["seq/a@2026-11-23T08:00:00Z"])      // b is now scheduled for 25 Nov
        try h.replaceSequence("a.yaml", SchedulingScenarioTests.sequence("seq", persona: "p", steps: """
              - { id: a, after: 0m, template: step }
              - { id: c, after: 3d, template: step }
              - { id: d, after: 1d, template: step }
            """))
        let reloader = CatalogReloader(configPath: h.directory + "/nurture.yaml", holder: h.holder, store: h.store, logger: Self.logger)
        #expect((await reloader.reload()))
        let rest = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(rest.first { $0.kind == .skipped }.map { "\($0.stepID): \($0.detail)" } == "b: step removed from the sequence")
        // c's changed delay applies (it was not scheduled yet): 3d from b's skip on 25 Nov; then the added d.
        #expect(h.sends(rest) == ["seq/c@2026-11-28T08:00:00Z", "seq/d@2026-11-29T08:00:00Z"])
    }

    @Test func aBadReloadKeepsRunningOnTheOldFiles() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": SchedulingScenarioTests.sequence("seq", persona: "p", steps: """
              - { id: a, after: 0m, template: step }
              - { id: b, after: 1d, template: step }
            """)])
        try await h.addLead("ada@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        try h.replaceSequence("a.yaml", "id: seq\npersona: p\nsteps:\n  - { id: a, after: soon, template: step }\n")
        let reloader = CatalogReloader(configPath: h.directory + "/nurture.yaml", holder: h.holder, store: h.store, logger: Self.logger)
        #expect(!(await reloader.reload()))
        #expect(h.holder.current.sequence("seq")?.steps.map(\.id) == ["a", "b"])
        let (_, diagnostics) = CatalogReloader.load(configPath: h.directory + "/nurture.yaml")
        #expect(diagnostics.map(\.description).contains { $0.hasSuffix("a.yaml:4:21: error: bad duration 'soon' for 'after': write a number and a unit s, m, h, d or w (e.g. 30m, 3d, 1w, 1d12h)") })
        let rest = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(h.sends(rest) == ["seq/b@2026-11-24T08:00:00Z"])
    }

    @Test func aNewSequenceEnrollsExistingLeadsOfItsPersona() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": SchedulingScenarioTests.sequence("seq", persona: "p", steps: "  - { id: a, after: 0m, template: step }")])
        try await h.addLead("ada@example.com", persona: "q")      // no sequence serves q yet
        _ = try await h.run(until: at("2026-11-24T00:00:00Z"))
        try h.replaceSequence("b.yaml", SchedulingScenarioTests.sequence("for-q", persona: "q", steps: "  - { id: hello, after: 0m, template: step }"))
        #expect((await CatalogReloader(configPath: h.directory + "/nurture.yaml", holder: h.holder, store: h.store, logger: Self.logger).reload()))
        let entries = try await h.run(until: at("2026-11-25T00:00:00Z"))
        #expect(h.sends(entries) == ["for-q/hello@2026-11-24T00:00:00Z"])
    }
}
