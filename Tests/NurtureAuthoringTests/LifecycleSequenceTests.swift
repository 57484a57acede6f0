import Foundation
import Testing
import NurtureCore
@testable import NurtureAuthoring

/// `entry.stage`, `entry.min_fit` and `when:` exits are read and located; every `enroll:` of the config is checked
/// against the sequence it names and the stage the lead is then at.
struct LifecycleSequenceTests {
    /// A folder with a config (given extra keys) and the given sequences, loaded as `validate` does.
    static func catalog(config extra: String = "", sequences: [String: String]) throws -> (Catalog?, [String]) {
        let dir = try ConfigDiscoveryTests.write("templates: templates\nfields: [first_name, company]\n" + ConfigDiscoveryTests.yaml + "\n" + extra)
        // The fixtures' layout and one valid template (the fixtures' folder also holds broken ones).
        let base = FixtureCorpusTests.fixtures + "/base/templates"
        try FileManager.default.createDirectory(atPath: dir + "/templates/ok", withIntermediateDirectories: true)
        for file in ["_layout.html", "_layout.txt", "ok/hello.md"] { try FileManager.default.copyItem(atPath: base + "/" + file, toPath: dir + "/templates/" + file) }
        try FileManager.default.createDirectory(atPath: dir + "/sequences", withIntermediateDirectories: true)
        for (name, text) in sequences { try text.write(toFile: dir + "/sequences/\(name).yaml", atomically: true, encoding: .utf8) }
        let sink = DiagnosticSink()
        guard let config = ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: [:]) else {
            return (nil, sink.items.map(\.description))
        }
        let catalog = CatalogLoader.load(config: config, sink: sink)
        return (catalog, sink.items.map(\.description))
    }

    static func sequence(_ id: String, persona: String = "cto", entry: String = "{ consent: required }", exit: String = "") -> String {
        """
        id: \(id)
        persona: \(persona)
        entry: \(entry)
        steps:
          - { id: hello, after: 0m, template: ok/hello }
        \(exit)
        """
    }

    @Test func entryStagesAndMinimumFit() throws {
        let (catalog, problems) = try Self.catalog(sequences: [
            "one": Self.sequence("one", entry: "{ stage: customer, min_fit: 15 }"),
            "many": Self.sequence("many", persona: "other", entry: "{ stage: [customer, ambassador] }"),
            "plain": Self.sequence("plain", persona: "third"),
        ])
        let c = try #require(catalog, "\(problems)")
        #expect(c.sequence("one")?.entry.stages == [.customer])
        #expect(c.sequence("one")?.entry.minFit == 15)
        #expect(c.sequence("many")?.entry.stages == [.customer, .ambassador])
        #expect(c.sequence("plain")?.entry.stages == LifecycleStage.prospects)
    }

    @Test func oneStageApartTwoSequencesOfAPersonaDoNotOverlap() throws {
        let (catalog, problems) = try Self.catalog(sequences: [
            "prospects": Self.sequence("prospects"),
            "customers": Self.sequence("customers", entry: "{ stage: customer }"),
        ])
        #expect(catalog != nil, "\(problems)")
        let (clash, clashProblems) = try Self.catalog(sequences: [
            "prospects": Self.sequence("prospects"),
            "sales": Self.sequence("sales", entry: "{ stage: [sql, customer] }"),
        ])
        #expect(clash == nil)
        #expect(clashProblems.joined().contains("would both enroll the same 'cto' lead"), "\(clashProblems)")
    }

    @Test func unknownStagesAreLocated() throws {
        let (catalog, problems) = try Self.catalog(sequences: ["one": Self.sequence("one", entry: "{ stage: [customer, client], min_fit: high }")])
        #expect(catalog == nil)
        let text = problems.joined(separator: "\n")
        #expect(text.contains("one.yaml:3:28: error: unknown stage 'client' for 'entry.stage'; expected one of: lead, mql, sql, customer, ambassador, disqualified"), "\(text)")
        #expect(text.contains("'entry.min_fit' must be a number"), "\(text)")
    }

    @Test func exitConditions() throws {
        let (catalog, problems) = try Self.catalog(sequences: ["one": Self.sequence("one", exit: """
            exit:
              - when: score >= 50
                then: handoff
              - when: score > 50
              - when: "fit >= 20 and stage == sql"
                then: handoff
            """)])
        let c = try #require(catalog, "\(problems)")
        #expect(c.sequence("one")?.exits.map(\.trigger) == [
            .scoreAtLeast(50),
            .condition(LeadCondition(terms: [.score(.above, 50)])),
            .condition(LeadCondition(terms: [.fit(.atLeast, 20), .stage(equal: true, .sql)])),
        ])
        let (_, bad) = try Self.catalog(sequences: ["one": Self.sequence("one", exit: "exit:\n  - when: mood >= 3")])
        #expect(bad.joined().contains("one.yaml:7:11: error: bad rule 'mood >= 3': unknown name 'mood'"), "\(bad)")
    }

    @Test func enrollmentsMustAdmitTheStageTheLeadIsAt() throws {
        let sequences = [
            "prospects": Self.sequence("prospects"),
            "onboarding": Self.sequence("onboarding", persona: "customer", entry: "{ stage: customer }"),
        ]
        let good = """
            handoff:
              email: sales@example.com
              outcomes:
                won: { enroll: onboarding }
                recycled: { enroll: prospects, after: 30d }
            scoring:
              thresholds:
                - { at: 40, when: "stage == customer", enroll: onboarding }
            """
        let (catalog, problems) = try Self.catalog(config: good, sequences: sequences)
        #expect(catalog != nil, "\(problems)")
        let bad = """
            handoff:
              email: sales@example.com
              outcomes:
                won: { enroll: prospects }
                lost: { enroll: nowhere }
            scoring:
              thresholds:
                - { at: 40, stage: ambassador, enroll: onboarding }
            """
        let (none, badProblems) = try Self.catalog(config: bad, sequences: sequences)
        #expect(none == nil)
        let text = badProblems.joined(separator: "\n")
        #expect(text.contains("nurture.yaml:11:20: error: 'handoff.outcomes.won' enrolls a 'customer' lead into 'prospects', whose 'entry.stage' admits only lead, mql, sql"), "\(text)")
        #expect(text.contains("nurture.yaml:12:21: error: 'handoff.outcomes.lost' enrolls into unknown sequence 'nowhere'"), "\(text)")
        #expect(text.contains("nurture.yaml:15:44: error: scoring threshold at 40.0 enrolls a 'ambassador' lead into 'onboarding'"), "\(text)")
    }
}
