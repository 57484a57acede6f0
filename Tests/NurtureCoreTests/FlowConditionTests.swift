import NurtureCore
import Testing

/// The `if:` language: parsed and typed against the known fields, judged on a lead's facts.
struct FlowConditionTests {
    static let fields: Set<String> = ["email", "country", "company_size", "first_name"]

    static func facts(score: Double = 0, country: String? = nil, size: String? = nil, clicked: Set<String> = [], events: Set<String> = [],
                      stage: LifecycleStage = .lead) -> FlowCondition.Facts {
        let values = ["country": country, "company_size": size].compactMapValues { $0 }
        return FlowCondition.Facts(lead: LeadCondition.Facts(score: score, fit: 10, stage: stage, grade: "B"), field: { values[$0] },
                                   engagement: Engagement(clicked: clicked), events: events)
    }

    static func parse(_ text: String) throws -> FlowCondition { try FlowCondition.parse(text, fields: fields).get() }

    @Test func andBindsTighterThanOrAndParenthesesAndNotWork() throws {
        let c = try Self.parse("score >= 20 and country == FR or clicked(pricing)")
        #expect(c.holds(Self.facts(score: 25, country: "fr")))
        #expect(!c.holds(Self.facts(score: 10, country: "FR")))
        #expect(c.holds(Self.facts(clicked: ["pricing"])))
        let d = try Self.parse("not (stage == customer or event(demo_requested)) and grade != D")
        #expect(d.holds(Self.facts()))
        #expect(!d.holds(Self.facts(events: ["demo_requested"])))
        #expect(!d.holds(Self.facts(stage: .customer)))
        #expect(c.description == "score >= 20 and country == FR or clicked(pricing)")
    }

    @Test func fieldsCompareAsTextOrAsNumbers() throws {
        let c = try Self.parse("company_size >= 50 and country != 'United Kingdom'")
        #expect(c.holds(Self.facts(country: "FR", size: "120")))
        #expect(!c.holds(Self.facts(country: "united kingdom", size: "120")))
        #expect(!c.holds(Self.facts(country: "FR", size: "a lot")), "a field that is no number fails a numeric test")
        #expect(!c.holds(Self.facts(country: "FR")), "a missing field fails it too")
        #expect(try Self.parse("country != FR").holds(Self.facts()), "a missing field equals nothing")
    }

    @Test(arguments: [
        ("country >= FR", 11, "'>=' compares numbers"),
        ("score == high", 9, "'score' is a number"),
        ("region == EU", 0, "unknown name 'region'"),
        ("stage == client", 9, "unknown stage"),
        ("stage > sql", 8, "'stage' takes == or !="),
        ("score >= 20 and", 15, "expected a comparison"),
        ("(score >= 20", 12, "expected ')'"),
        ("visited(pricing)", 0, "unknown test 'visited(…)'"),
        ("score => 20", 6, "'=>' is not a comparison"),
        ("", 0, "an empty condition"),
        ("score >= 20 country == FR", 12, "expected 'and', 'or' or the end"),
    ])
    func mistakesAreRefusedAtTheirColumn(_ text: String, _ offset: Int, _ message: String) {
        switch FlowCondition.parse(text, fields: Self.fields) {
        case .success(let c): Issue.record("parsed as \(c)")
        case .failure(let e):
            #expect(e.message.hasPrefix(message), "\(e.message)")
            #expect(e.offset == offset, "\(e.message)")
        }
    }
}
