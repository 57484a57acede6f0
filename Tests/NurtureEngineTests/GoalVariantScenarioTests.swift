import Foundation
import NurtureCore
import NurtureEngine
import Testing

/// Goals, A/B variants and holdouts end to end on the manual clock: real SQLite file, real scheduler, captured mail,
/// and the stats the store computes from what happened.
struct GoalVariantScenarioTests {
    static func sequence(_ head: String, _ steps: String) -> [String: String] {
        ["a.yaml": """
            id: track
            persona: p
            \(head)
            steps:
            \(steps)
            """]
    }

    func addLeads(_ h: EngineHarness, _ n: Int) async throws -> [String] {
        let emails = (0..<n).map { "lead\($0)@example.com" }
        for e in emails { try await h.addLead(e, persona: "p") }
        return emails
    }

    func stats(_ h: EngineHarness) async throws -> SequenceStats {
        try #require(try await h.store.stats(since: nil).first { $0.sequenceID == "track" })
    }

    @Test func eachLeadGetsItsVariantByTheKeyedHashAndStatsCountThemApart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-engine-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/templates", withIntermediateDirectories: true)
        try "---\nsubject: \"Other subject for {{first_name}}\"\n---\nHello, [b](https://example.com/b).\n"
            .write(toFile: directory + "/templates/step-b.md", atomically: true, encoding: .utf8)
        let h = try EngineHarness(sequences: Self.sequence("", """
              - id: offer
                after: 0m
                variants:
                  - { id: a, template: step, weight: 50 }
                  - { id: b, template: step-b, weight: 50 }
            """), directory: directory)
        let emails = try await addLeads(h, 40)
        _ = try await h.run(until: at("2026-11-24T00:00:00Z"))
        let step = try #require(h.holder.current.sequence("track")?.step("offer"))
        var expected: [String: Int] = [:]
        for m in h.transport.sent {
            let variant = try #require(VariantAssignment.variant(of: step, sequenceID: "track", leadKey: m.recipient.key))
            #expect(m.subject.hasPrefix(variant.id == "a" ? "Step for" : "Other subject for"), "\(m.recipient.value): \(m.subject)")
            expected[variant.id, default: 0] += 1
        }
        #expect(h.transport.sent.count == emails.count && expected.count == 2)
        let s = try await stats(h)
        #expect(Dictionary(uniqueKeysWithValues: s.steps.map { ($0.variant ?? "-", $0.sent) }) == expected)
    }

    @Test func aGoalEndsTheEnrollmentAndIsCreditedToTheLastStepSentWithinItsWindow() async throws {
        let h = try EngineHarness(sequences: Self.sequence("goal: { on: converted, within: 30d }", """
              - { id: one, after: 0m, template: step }
              - { id: two, after: 2d, template: step }
              - { id: three, after: 2d, template: step }
            """))
        try await h.addLead("ada@example.com", persona: "p")
        try await h.addLead("bob@example.com", persona: "p")
        var entries = try await h.run(until: at("2026-11-26T00:00:00Z"))
        try await h.event("ada@example.com", "converted")   // after two, before three
        entries += try await h.run(until: at("2026-12-31T00:00:00Z"))
        try await h.event("bob@example.com", "converted")   // 38 days after entering: outside the window
        #expect(h.sends(entries, "ada@example.com") == ["track/one@2026-11-23T08:00:00Z", "track/two@2026-11-25T08:00:00Z"])
        #expect(h.sends(entries, "bob@example.com").count == 3)
        let ada = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(ada.enrollments.map { "\($0.state):\($0.endReason ?? "")" } == ["exited:goal converted reached"])
        let s = try await stats(h)
        #expect(s.goalConverted == 1 && s.conversionRate == 0.5)
        #expect(s.steps.map { "\($0.stepID):\($0.conversions)" }.sorted() == ["one:0", "three:0", "two:1"])
    }

    @Test func heldOutLeadsAreEnrolledAndCountedButNeverMailed() async throws {
        let h = try EngineHarness(sequences: Self.sequence("goal: { on: converted, within: 30d, exit: false }\nholdout: 30%", """
              - { id: one, after: 0m, template: step, class: transactional }
              - { id: two, after: 2d, template: step }
            """))
        let emails = try await addLeads(h, 60)
        let sequence = try #require(h.holder.current.sequence("track"))
        let held = Set(emails.filter { VariantAssignment.isHeldOut(sequence, leadKey: $0) })
        #expect(!held.isEmpty && held.count < 30)
        _ = try await h.run(until: at("2026-11-24T00:00:00Z"))
        for e in emails { try await h.event(e, "converted") }
        _ = try await h.run(until: at("2026-12-31T00:00:00Z"))
        let mailed = Set(h.transport.sent.map(\.recipient.value))
        #expect(mailed.isDisjoint(with: held) && mailed.count == emails.count - held.count)
        let s = try await stats(h)
        #expect(s.enrolled == 60 && s.heldOut == held.count && s.holdoutConverted == held.count && s.goalConverted == 60 - held.count)
        let one = try #require(try await h.store.lead(try EmailAddress(validating: held.first!)))
        #expect(one.sends.allSatisfy { $0.status == .skipped && $0.reason == "holdout: never mailed" }, "\(one.sends)")
        #expect(one.enrollments.map(\.state) == [.completed], "exit: false keeps a converted lead in")
    }
}
