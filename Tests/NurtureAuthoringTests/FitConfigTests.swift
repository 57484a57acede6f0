import Foundation
import Testing
import NurtureCore
@testable import NurtureAuthoring

/// `scoring.fit` reads into the rules the scorer applies, with readable default labels and list files resolved
/// beside the config; every mistake is an error at its own line and column.
struct FitConfigTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    /// `fit:` is line 9, so the section's own lines start at line 10.
    static let header = """
        database: nurture.sqlite
        fields: [job_title, industry, company_size]
        sender: { name: S, email: s@example.com, postal_address: 1 Street }
        # 4
        # 5
        # 6
        # 7
        scoring:
          fit:

        """

    static func load(_ fit: String) throws -> (NurtureConfig?, [String]) {
        let dir = try ConfigDiscoveryTests.write(header + fit)
        try FileManager.default.createDirectory(atPath: dir + "/lists", withIntermediateDirectories: true)
        try "bad domain\n".write(toFile: dir + "/lists/bad.txt", atomically: true, encoding: .utf8)
        let sink = DiagnosticSink()
        let config = ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: [:])
        return (config, sink.items.map { $0.relative(to: dir).description })
    }

    @Test func aValidSectionReadsIntoTheRules() throws {
        let sink = DiagnosticSink()
        let config = try #require(ConfigLoader.load(path: Self.fixtures + "/fit/nurture.yaml", sink: sink, environment: [:]),
                                  "\(sink.items)")
        #expect(sink.items.isEmpty, "\(sink.items)")
        let fit = config.scoring.fit
        #expect(fit.grades == [FitGrade(letter: "A", minimum: 50), FitGrade(letter: "B", minimum: 25), FitGrade(letter: "C", minimum: 10)])
        #expect(fit.belowAll == "E")
        #expect(fit.rules == [
            FitRule(test: .field("job_title", .pattern(#"\b(cto|vp engineering|head of engineering)\b"#)), points: 20,
                    label: #"job_title ~ /\b(cto|vp engineering|head of engineering)\b/"#),
            FitRule(test: .field("industry", .oneOf(["software", "saas"])), points: 10, label: "industry in software, saas"),
            FitRule(test: .field("country", .oneOf(["FR"])), points: 5, label: "country in FR"),
            FitRule(test: .field("company_size", .range(min: 50, max: 5000)), points: 10, label: "company_size 50..5000"),
            FitRule(test: .field("company_size", .range(min: 1000, max: nil)), points: 2.5, label: "company_size 1,000.."),
            FitRule(test: .field("company_size", .range(min: nil, max: 49)), points: -5, label: "company_size ..49"),
            FitRule(test: .emailDomain(.freeMail), points: -10, label: "free-mail address"),
            FitRule(test: .emailDomain(.domains(["rival.example", "competitor.example"])), points: -40, label: "competitor"),
            FitRule(test: .emailDomain(.domains(["mailinator.com", "yopmail.com", "guerrillamail.com"])), points: -30,
                    label: "disposable address"),
            FitRule(test: .field("industry", .oneOf(["gambling"])), points: -20, label: "competitor (rule 10)"),
        ])
    }

    @Test func theDefaultsGradeAToD() throws {
        let (config, problems) = try Self.load("    rules: [{ email_domain: free_mail, points: -10 }]\n")
        let fit = try #require(config?.scoring.fit, "\(problems)")
        #expect(fit.grades == FitRules.defaultGrades)
        #expect(fit.belowAll == "D")
        #expect(ConfigLoader.load(path: Self.fixtures + "/base/nurture.yaml", sink: DiagnosticSink())?.scoring.fit.isEmpty == true)
    }

    /// The example's commented `fit:` block, uncommented beside a copy of the shipped disposable list, is valid.
    @Test func theExampleBlockIsValidOnceUncommented() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        var lines = try String(contentsOfFile: repository + "/nurture.example.yaml", encoding: .utf8).components(separatedBy: "\n")
        var i = try #require(lines.firstIndex(of: "  # fit:"))
        while i < lines.count, lines[i].hasPrefix("  # ") {
            lines[i] = "  " + lines[i].dropFirst(4)
            i += 1
        }
        let dir = try ConfigDiscoveryTests.write(lines.joined(separator: "\n"))
        try FileManager.default.createDirectory(atPath: dir + "/lists", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repository + "/lists/disposable-domains.txt", toPath: dir + "/lists/disposable-domains.txt")
        let sink = DiagnosticSink()
        let config = try #require(ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: [:]), "\(sink.items)")
        let fit = config.scoring.fit
        #expect(fit.rules.map(\.label) == [#"job_title ~ /\b(cto|vp engineering|head of engineering)\b/"#, "industry in software, saas",
                                           "country in FR, BE, CH", "free-mail address", "competitor", "disposable address"])
        guard case .emailDomain(.domains(let disposable)) = fit.rules.last?.test else {
            Issue.record("no list rule")
            return
        }
        #expect(disposable.isSuperset(of: ["mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com", "temp-mail.org"]))
        #expect(!disposable.contains(where: { $0.contains("#") || $0.contains(" ") }))
    }

    struct Mistake: CustomTestStringConvertible, Sendable {
        var yaml: String
        var expected: String
        var testDescription: String { expected }
    }

    static let mistakes: [Mistake] = [
        .init(yaml: "    colour: blue\n", expected: "nurture.yaml:10:5: error: unknown key 'colour' in 'scoring.fit'; expected one of: grades, below, rules"),
        .init(yaml: "    rules:\n      - { field: job_title, pattern: '(cto', points: 20 }\n",
              expected: "nurture.yaml:11:38: error: bad regular expression '(cto' for 'pattern'"),
        .init(yaml: "    rules:\n      - { field: company_size, range: 5000..50, points: 10 }\n",
              expected: "nurture.yaml:11:39: error: bad range '5000..50': write MIN..MAX, MIN.. or ..MAX"),
        .init(yaml: "    rules:\n      - { field: company_size, range: big, points: 10 }\n",
              expected: "nurture.yaml:11:39: error: bad range 'big'"),
        .init(yaml: "    rules:\n      - { field: company_size, range: '..', points: 10 }\n",
              expected: "nurture.yaml:11:39: error: bad range '..'"),
        .init(yaml: "    rules:\n      - { field: job_title, in: [cto], points: 10, weight: 2 }\n",
              expected: "nurture.yaml:11:52: error: unknown key 'weight' in a fit rule; expected one of: field, in, pattern, range, email_domain, points, label"),
        .init(yaml: "    rules:\n      - { field: jobtitle, in: [cto], points: 10 }\n",
              expected: "nurture.yaml:11:18: error: fit rule field 'jobtitle' is neither built in nor declared in the config's 'fields'"),
        .init(yaml: "    rules:\n      - { field: job_title, in: [cto], pattern: cto, points: 10 }\n",
              expected: "nurture.yaml:11:40: error: a fit rule takes one of 'in', 'pattern' or 'range', not several"),
        .init(yaml: "    rules:\n      - { field: job_title, points: 10 }\n",
              expected: "nurture.yaml:11:9: error: a fit rule on field 'job_title' needs 'in', 'pattern' or 'range'"),
        .init(yaml: "    rules:\n      - { points: 10 }\n",
              expected: "nurture.yaml:11:9: error: a fit rule needs 'field' (with 'in', 'pattern' or 'range') or 'email_domain'"),
        .init(yaml: "    rules:\n      - { field: job_title, in: [cto], email_domain: free_mail, points: 10 }\n",
              expected: "nurture.yaml:11:40: error: a fit rule tests either a 'field' or the 'email_domain', not both"),
        .init(yaml: "    rules:\n      - { email_domain: free_mail, in: [x], points: 10 }\n",
              expected: "nurture.yaml:11:36: error: 'in' tests a 'field'; an 'email_domain' rule takes no other test"),
        .init(yaml: "    rules:\n      - { email_domain: free_mail }\n",
              expected: "nurture.yaml:11:9: error: a fit rule is missing required key 'points'"),
        .init(yaml: "    rules:\n      - { email_domain: free_mail, points: lots }\n",
              expected: "nurture.yaml:11:44: error: 'points' must be a number"),
        .init(yaml: "    rules:\n      - { email_domain: freemail, points: -10 }\n",
              expected: "nurture.yaml:11:25: error: 'email_domain' must be free_mail, a list of domains or { list: FILE }"),
        .init(yaml: "    rules:\n      - { email_domain: [rival.com, '@rival.net'], points: -10 }\n",
              expected: "nurture.yaml:11:37: error: '@rival.net' is not a domain name"),
        .init(yaml: "    rules:\n      - { email_domain: { list: lists/missing.txt }, points: -30 }\n",
              expected: "nurture.yaml:11:33: error: cannot read domain list 'lists/missing.txt'"),
        .init(yaml: "    rules:\n      - { email_domain: { list: lists }, points: -30 }\n",
              expected: "nurture.yaml:11:33: error: cannot read domain list 'lists'"),
        .init(yaml: "    rules:\n      - { email_domain: { list: lists/bad.txt }, points: -30 }\n",
              expected: "lists/bad.txt:1:1: error: 'bad domain' is not a domain name"),
        .init(yaml: "    rules:\n      - { email_domain: { file: x.txt }, points: -30 }\n",
              expected: "nurture.yaml:11:27: error: unknown key 'file' in 'email_domain'; expected one of: list"),
        .init(yaml: "    grades: { A: 40, B: high }\n",
              expected: "nurture.yaml:10:25: error: the minimum fit for grade 'B' must be a number"),
        .init(yaml: "    grades: { A: 40, bb: 20 }\n",
              expected: "nurture.yaml:10:22: error: a grade in 'scoring.fit.grades' must be a single capital letter (A to Z), found 'bb'"),
        .init(yaml: "    grades: { A: 40, B: 40 }\n",
              expected: "nurture.yaml:10:25: error: grades 'A' and 'B' have the same minimum 40"),
        .init(yaml: "    grades: {}\n", expected: "nurture.yaml:10:13: error: 'scoring.fit.grades' must name at least one grade"),
        .init(yaml: "    grades: [A, B]\n", expected: "nurture.yaml:10:13: error: 'scoring.fit.grades' must be a mapping, found a list"),
        .init(yaml: "    below: low\n", expected: "nurture.yaml:10:12: error: 'scoring.fit.below' must be a single capital letter (A to Z), found 'low'"),
        .init(yaml: "    below: A\n", expected: "nurture.yaml:10:12: error: 'scoring.fit.below' grade 'A' is also in 'grades'"),
        .init(yaml: "    rules: { field: job_title }\n", expected: "nurture.yaml:10:12: error: 'scoring.fit.rules' must be a list, found a mapping"),
    ]

    @Test(arguments: mistakes)
    func aMistakeIsLocated(_ m: Mistake) throws {
        let (config, problems) = try Self.load(m.yaml)
        #expect(config == nil)
        #expect(problems.contains { $0.hasPrefix(m.expected) }, "got:\n\(problems.joined(separator: "\n"))")
    }
}
