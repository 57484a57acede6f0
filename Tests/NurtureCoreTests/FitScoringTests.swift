import Foundation
import Testing
import NurtureCore

/// Fit points come from who the lead is: each test kind, the address's domain, grades, and the ledger lines that
/// explain a change of fit.
struct FitScoringTests {
    func lead(_ email: String = "ada@acme.example", _ fields: [String: String] = [:]) throws -> Lead {
        Lead(email: try EmailAddress(validating: email), persona: "cto", fields: fields,
             consent: Consent(source: "test", at: Date(timeIntervalSince1970: 0)))
    }

    func lead(_ fields: [String: String]) throws -> Lead { try lead("ada@acme.example", fields) }

    func rule(_ test: FitRule.Test, _ points: Double, _ label: String) -> FitRule { FitRule(test: test, points: points, label: label) }

    func fit(_ lead: Lead, _ rules: [FitRule]) -> FitResult { FitScoring.evaluate(lead, rules: FitRules(rules: rules)) }

    @Test func oneOfIsCaseInsensitiveAndTrimmed() throws {
        let rules = [rule(.field("industry", .oneOf(["Software", " saas "])), 10, "industry")]
        #expect(fit(try lead(["industry": "  SaaS "]), rules).points == 10)
        #expect(fit(try lead(["industry": "software"]), rules).points == 10)
        #expect(fit(try lead(["industry": "software house"]), rules).points == 0)
    }

    @Test func patternIsFoundAnywhereCaseInsensitively() throws {
        let rules = [rule(.field("job_title", .pattern(#"\b(cto|vp engineering)\b"#)), 20, "title")]
        #expect(fit(try lead(["job_title": "Co-founder & CTO"]), rules).matched == ["title": 20])
        #expect(fit(try lead(["job_title": "VP Engineering, EMEA"]), rules).points == 20)
        #expect(fit(try lead(["job_title": "Director"]), rules).points == 0)
        // A word boundary: "ctor" is no CTO.
        #expect(fit(try lead(["job_title": "actor"]), rules).points == 0)
    }

    @Test func aBadPatternNeverMatches() throws {
        #expect(fit(try lead(["job_title": "cto"]), [rule(.field("job_title", .pattern("(cto")), 20, "bad")]).points == 0)
    }

    @Test func rangeReadsNumbersWithSeparatorsInclusively() throws {
        let rules = [rule(.field("company_size", .range(min: 50, max: 5000)), 10, "size")]
        for (size, points) in [("50", 10.0), ("5000", 10), ("1,200", 10), ("1 200", 10), ("1\u{202F}200", 10), ("49", 0),
                               ("5001", 0), ("5,001", 0), ("lots", 0), ("50-200", 0), ("inf", 0), ("nan", 0), ("0x40", 0)] {
            #expect(fit(try lead(["company_size": size]), rules).points == points, "\(size)")
        }
        #expect(fit(try lead(["company_size": "100000"]), [rule(.field("company_size", .range(min: 1000, max: nil)), 5, "big")]).points == 5)
        #expect(fit(try lead(["company_size": "12"]), [rule(.field("company_size", .range(min: nil, max: 49)), -5, "small")]).points == -5)
    }

    @Test func aMissingOrBlankFieldNeverMatches() throws {
        let rules = [rule(.field("job_title", .pattern(".*")), 20, "any title"),
                     rule(.field("company_size", .range(min: nil, max: 10)), 5, "tiny"),
                     rule(.field("country", .oneOf([""])), 5, "blank country")]
        #expect(fit(try lead([:]), rules).points == 0)
        #expect(fit(try lead(["job_title": "  ", "company_size": "", "country": " "]), rules).points == 0)
    }

    @Test func builtInFieldsCanBeTested() throws {
        #expect(fit(try lead(), [rule(.field("persona", .oneOf(["CTO"])), 3, "persona")]).points == 3)
    }

    @Test func domainListsMatchParentDomains() throws {
        let rules = [rule(.emailDomain(.domains(["rival.com"])), -40, "competitor")]
        #expect(fit(try lead("x@rival.com"), rules).points == -40)
        #expect(fit(try lead("x@mail.RIVAL.com"), rules).points == -40)
        #expect(fit(try lead("x@notrival.com"), rules).points == 0)
        #expect(fit(try lead("x@rival.com.example"), rules).points == 0)
    }

    @Test func freeMailProvidersAreBuiltIn() throws {
        let rules = [rule(.emailDomain(.freeMail), -10, "free mail")]
        for address in ["a@gmail.com", "a@GoogleMail.com", "a@yahoo.fr", "a@hotmail.com", "a@outlook.fr", "a@icloud.com",
                        "a@proton.me", "a@orange.fr", "a@free.fr", "a@laposte.net", "a@gmx.de", "a@web.de", "a@qq.com"] {
            #expect(fit(try lead(address), rules).points == -10, "\(address)")
        }
        #expect(fit(try lead("a@acme.example"), rules).points == 0)
        #expect(fit(try lead("a@gmail.company.example"), rules).points == 0)
    }

    @Test func pointsAddUpAndAreRoundedToTwoDecimals() throws {
        let rules = [rule(.field("industry", .oneOf(["saas"])), 0.1, "a"), rule(.field("country", .oneOf(["FR"])), 0.2, "b"),
                     rule(.emailDomain(.freeMail), -0.333, "c")]
        let result = fit(try lead("a@gmail.com", ["industry": "saas", "country": "fr"]), rules)
        #expect(result.points == -0.03)
        #expect(result.matched == ["a": 0.1, "b": 0.2, "c": -0.333])
    }

    @Test func gradesTakeTheHighestBoundReached() throws {
        let rules = FitRules(rules: [rule(.field("company_size", .range(min: 0, max: nil)), 0, "size")])
        func grade(_ points: Double) -> String { FitScoring.grade(points, rules: rules) }
        #expect([grade(100), grade(40), grade(39.99), grade(20), grade(19), grade(5), grade(4.99), grade(0), grade(-50)]
                == ["A", "A", "B", "B", "C", "C", "D", "D", "D"])
        let custom = FitRules(grades: [FitGrade(letter: "C", minimum: 0), FitGrade(letter: "A", minimum: 50)], belowAll: "E")
        #expect([FitScoring.grade(60, rules: custom), FitScoring.grade(10, rules: custom), FitScoring.grade(-1, rules: custom)] == ["A", "C", "E"])
        let cto = FitScoring.evaluate(try lead(["job_title": "CTO"]), rules: FitRules(rules: [rule(.field("job_title", .pattern("cto")), 40, "cto")]))
        #expect(cto.grade == "A")
        #expect(FitScoring.evaluate(try lead(), rules: FitRules()).grade == "D")
    }

    @Test func changesExplainEachMoveAndAddUp() {
        let previous = ["industry in saas": 10.0, "job_title ~ /cto/": 15, "country in FR": 5]
        let result = FitResult(points: 35, grade: "B", matched: ["industry in saas": 10, "job_title ~ /cto/": 20, "competitor": -40, "size": 45])
        let lines = FitScoring.changes(from: previous, to: result)
        #expect(lines.map(\.label) == ["competitor", "country in FR", "job_title ~ /cto/", "size"])
        #expect(lines.map(\.delta) == [-40, -5, 5, 45])
        #expect(lines.map(\.fitAfter) == [-10, -15, -10, 35])
        #expect(lines.map(\.cause) == ["fit: competitor (\u{2212}40)", "fit: no longer country in FR (\u{2212}5)",
                                       "fit: job_title ~ /cto/ now +20 (+5)", "fit: size (+45)"])
        #expect(30 + lines.map(\.delta).reduce(0, +) == result.points)
    }

    @Test func noChangeGivesNoLine() throws {
        let rules = FitRules(rules: [rule(.field("job_title", .pattern("cto")), 15, "job_title ~ /cto/")])
        let result = FitScoring.evaluate(try lead(["job_title": "CTO"]), rules: rules)
        #expect(FitScoring.changes(from: result.matched, to: result).isEmpty)
        #expect(FitScoring.changes(from: [:], to: FitScoring.evaluate(try lead(), rules: rules)).isEmpty)
    }

    @Test func aFirstEvaluationListsEveryMatchedRule() throws {
        let rules = FitRules(rules: [rule(.field("job_title", .pattern(#"\bcto\b"#)), 15, #"job_title ~ /\bcto\b/"#),
                                     rule(.emailDomain(.freeMail), -10, "free-mail address")])
        let result = FitScoring.evaluate(try lead("ada@gmail.com", ["job_title": "CTO"]), rules: rules)
        let lines = FitScoring.changes(from: [:], to: result)
        #expect(lines.map(\.cause) == ["fit: free-mail address (\u{2212}10)", #"fit: job_title ~ /\bcto\b/ (+15)"#])
        #expect(lines.last?.fitAfter == result.points)
        #expect(result.points == 5)
    }

    @Test func aChangedRuleSetListsOnlyWhatMoved() throws {
        let ada = try lead("ada@mail.rival.com", ["job_title": "CTO", "industry": "SaaS"])
        let before = FitRules(rules: [rule(.field("job_title", .pattern("cto")), 15, "job_title ~ /cto/"),
                                      rule(.field("industry", .oneOf(["saas"])), 10, "industry in saas")])
        let after = FitRules(rules: [rule(.field("job_title", .pattern("cto")), 20, "job_title ~ /cto/"),
                                     rule(.field("industry", .oneOf(["saas"])), 10, "industry in saas"),
                                     rule(.emailDomain(.domains(["rival.com"])), -40, "competitor")])
        let old = FitScoring.evaluate(ada, rules: before), new = FitScoring.evaluate(ada, rules: after)
        let lines = FitScoring.changes(from: old.matched, to: new)
        #expect(old.points == 25 && old.grade == "B")
        #expect(new.points == -10 && new.grade == "D")
        #expect(lines.map(\.cause) == ["fit: competitor (\u{2212}40)", "fit: job_title ~ /cto/ now +20 (+5)"])
        #expect(lines.map(\.fitAfter) == [-15, -10])
        // Undoing the change explains the way back.
        let back = FitScoring.changes(from: new.matched, to: old)
        #expect(back.map(\.cause) == ["fit: no longer competitor (+40)", "fit: job_title ~ /cto/ now +15 (\u{2212}5)"])
        #expect(back.last?.fitAfter == 25)
    }

    @Test func signedPointsReadNaturally() {
        #expect([FitScoring.signed(15), FitScoring.signed(-10), FitScoring.signed(2.5), FitScoring.signed(0.004)]
                == ["+15", "\u{2212}10", "+2.5", "+0"])
    }
}
