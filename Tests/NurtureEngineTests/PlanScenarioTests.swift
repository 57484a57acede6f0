import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import Testing

/// `nurture plan` on a real SQLite database with leads at every step of a sequence, before and after an edit:
/// the versions the daemon recorded, the same rules the scheduler applies, golden output.
struct PlanScenarioTests {
    static let before = """
        id: track
        persona: p
        steps:
          - { id: a, after: 0m, template: a }
          - { id: b, after: 2d, template: b }
          - { id: c, after: 2d, template: c }
          - { id: d, after: 2d, template: d }
        """

    /// Steps c and d renamed c2 and last (same templates), a new step e inserted before b, an exit rule on converted.
    static let after = """
        id: track
        persona: p
        steps:
          - { id: a, after: 0m, template: a }
          - { id: e, after: 1d, template: e }
          - { id: b, after: 2d, template: b }
          - { id: c2, after: 2d, template: c }
          - { id: last, after: 2d, template: d }
        exit:
          - on: converted
        """

    func harness() throws -> EngineHarness {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-plan-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/templates", withIntermediateDirectories: true)
        for name in ["a", "b", "c", "d", "e"] {
            try "---\nsubject: \"Step \(name) for {{first_name}}\"\n---\nHello {{first_name}}.\n"
                .write(toFile: directory + "/templates/\(name).md", atomically: true, encoding: .utf8)
        }
        return try EngineHarness(sequences: ["track.yaml": Self.before], directory: directory)
    }

    func plan(_ h: EngineHarness) async throws -> SequencePlan {
        let catalog = try EngineHarness.loadCatalog(h.directory + "/nurture.yaml")
        let loaded = try #require(catalog.sequences.first { $0.sequence.id == "track" })
        var old: [String: NurtureSequence] = [:]
        for (version, json) in try await h.store.sequenceSources(sequenceID: "track") {
            let snapshot = try #require(SequenceSnapshot.decode(json))
            var s = try #require(SequenceLoader.load(text: snapshot.file, path: loaded.file, knownFields: catalog.config.knownLeadFields))
            s.version = version
            old[version] = s
        }
        return SequencePlan.make(new: loaded.sequence, old: old, enrollments: try await h.store.planEnrollments(sequenceID: "track"),
                                 now: h.clock.now())
    }

    @Test func aPlanNamesWhatAnEditDoesToLeadsAtEveryStep() async throws {
        let h = try harness()
        // Three waves two days apart: after them a lead waits at each of b, c and d.
        try await h.addLead("one@example.com", persona: "p")
        try await h.run(until: at("2026-11-25T09:00:00Z"))
        try await h.addLead("two@example.com", persona: "p")
        try await h.run(until: at("2026-11-27T10:00:00Z"))
        try await h.addLead("three@example.com", persona: "p")
        try await h.addLead("buyer@example.com", persona: "p")
        try await h.run(until: at("2026-11-27T11:00:00Z"))
        try await h.event("buyer@example.com", "converted")
        let version = try #require(h.holder.current.sequence("track")?.version)
        #expect(version.count == 12)
        let stored = try #require(try await h.store.lead(try EmailAddress(validating: "one@example.com")))
        #expect(stored.enrollments.map(\.version) == [version])

        // Unchanged files: nothing to plan.
        let same = try await plan(h)
        #expect(!same.changed && same.count(.kept) == 4)

        try h.replaceSequence("track.yaml", Self.after)
        let p = try await plan(h)
        #expect(p.changed && p.version != version)
        let text = SequencePlan.text([(p, [])]).replacingOccurrences(of: p.version, with: "NEW").replacingOccurrences(of: version, with: "OLD")
        #expect(text == """
            track: files on disk are version NEW; enrollments run OLD: 4
              changes: + e, + c2, + last, - c, - d, ~ exit rules
              step            leads  effect    detail
              b                   1  exit      event converted
              b                   1  kept      will get new c2, last; new e is behind it: not sent
              c                   1  skip      step removed; goes on to c2
              d                   1  resend    step removed; c2 sends c again
              totals: kept 1, moved 0, skip 1, resend 1, exit 1, reassign 0
              sends due in 24 h: 0 now, 0 after the change; in 7 d: 9 now, 7 after (due times, before windows and the throttle)

            """, "\(text)")
        // After the reload the daemon records the new version; an enrollment moves to it with its next step.
        let json = try #require(try JSONSerialization.jsonObject(with: Data(SequencePlan.json([(p, [])]).utf8)) as? [[String: Any]])
        #expect((json.first?["totals"] as? [String: Int])?["resend"] == 1)
    }

    static func sequence(_ steps: [Step], version: String) -> NurtureSequence {
        var s = NurtureSequence(id: "t", persona: "p", name: "t", steps: steps)
        s.version = version
        return s
    }

    static func enrollment(_ n: Int, at step: String, done: Set<String>) -> PlanEnrollment {
        PlanEnrollment(enrollmentID: Int64(n), leadKey: "lead\(n)@example.com", version: "v1", enrolledAt: at("2026-11-01T00:00:00Z"), stepID: step,
                       dueAt: at("2026-11-30T00:00:00Z"), done: done, events: [], facts: .init(score: 0, fit: 0, stage: .lead, grade: nil))
    }

    @Test func changedVariantWeightsReassignLeadsAndAReorderedStepIsMoved() {
        func step(_ id: String, _ variants: [Variant] = []) -> Step {
            var s = Step(id: id, after: .days(1), template: variants.first?.template ?? id)
            s.variants = variants
            return s
        }
        let even = [Variant(id: "x", template: "x", weight: 50), Variant(id: "y", template: "y", weight: 50)]
        let skewed = [Variant(id: "x", template: "x", weight: 90), Variant(id: "y", template: "y", weight: 10)]
        let old = Self.sequence([step("a"), step("b", even), step("c"), step("d")], version: "v1")
        let leads = (0..<200).map { Self.enrollment($0, at: "b", done: ["a"]) }
        let same = SequencePlan.make(new: Self.sequence([step("a"), step("b", even), step("c"), step("d")], version: "v2"), old: ["v1": old],
                                     enrollments: leads, now: at("2026-11-29T00:00:00Z"))
        #expect(same.count(.reassign) == 0, "the same variants keep every lead's")
        let reweighted = SequencePlan.make(new: Self.sequence([step("a"), step("b", skewed), step("c"), step("d")], version: "v2"), old: ["v1": old],
                                           enrollments: leads, now: at("2026-11-29T00:00:00Z"))
        #expect(reweighted.count(.reassign) > 40 && reweighted.count(.reassign) < 120, "\(reweighted.count(.reassign))")
        #expect(reweighted.stepChanges == ["~ b (variants)"])
        let reordered = SequencePlan.make(new: Self.sequence([step("a"), step("c"), step("d"), step("b", even)], version: "v2"), old: ["v1": old],
                                          enrollments: [Self.enrollment(1, at: "c", done: ["a", "b"])], now: at("2026-11-29T00:00:00Z"))
        #expect(reordered.groups.map { "\($0.stepID) \($0.effect)" } == ["c moved"])
    }
}
