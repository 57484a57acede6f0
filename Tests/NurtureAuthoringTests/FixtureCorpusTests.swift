import Foundation
import Testing
@testable import NurtureAuthoring

/// The corpus of broken files under Fixtures/: each must produce its expected `file:line:column` diagnostic.
struct FixtureCorpusTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    struct Case: CustomTestStringConvertible, Sendable {
        var config: String
        var files: [String]
        var expected: String
        var testDescription: String { expected }
    }

    static let cases: [Case] = {
        let text = (try? String(contentsOfFile: fixtures + "/expected.txt", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { line in
            let parts = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            return Case(config: parts[0], files: parts[1].split(separator: " ").map(String.init), expected: parts[2])
        }
    }()

    /// Loads like `nurture validate --config CONFIG FILES…` and returns diagnostics relative to Fixtures/.
    static func validate(config: String, files: [String]) -> [Diagnostic] {
        let sink = DiagnosticSink()
        if let loaded = ConfigLoader.load(path: fixtures + "/" + config, sink: sink) {
            _ = CatalogLoader.load(config: loaded, sequenceFiles: files.isEmpty ? nil : files.map { fixtures + "/" + $0 }, sink: sink)
        }
        return sink.sorted.map { $0.relative(to: fixtures) }
    }

    @Test func corpusIsNotEmpty() {
        #expect(Self.cases.count >= 40)
    }

    @Test(arguments: cases)
    func brokenFileProducesItsDiagnostic(_ c: Case) {
        let diagnostics = Self.validate(config: c.config, files: c.files)
        #expect(diagnostics.contains { $0.description.hasPrefix(c.expected) },
                "got:\n\(diagnostics.map(\.description).joined(separator: "\n"))")
    }

    @Test func validSequenceHasNoDiagnostics() {
        #expect(Self.validate(config: "base/nurture.yaml", files: ["base/sequences/good.yaml"]).isEmpty)
    }

    @Test func sequencesOfOnePersonaWithDistinctMatchFiltersAreAccepted() {
        let d = Self.validate(config: "base/nurture.yaml", files: ["broken/match-distinct-a.yaml", "broken/match-distinct-b.yaml"])
        #expect(d.isEmpty, "\(d)")
    }
}
