import Foundation
import Testing
import NurtureCore

struct LeadRulesTests {
    let rules = LeadRules(declaredFields: ["first_name", "company"], personas: ["cto", "founder"], defaultTimeZone: "Europe/Paris")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func input(_ change: (inout LeadInput) -> Void = { _ in }) -> LeadInput {
        var i = LeadInput(email: " ada@Example.com ", persona: "cto", fields: ["first_name": " Ada ", "company": ""], consentSource: "webform:whitepaper")
        change(&i)
        return i
    }

    @Test func acceptsAndNormalises() throws {
        let lead = try rules.lead(from: input(), now: now)
        #expect(lead.email.value == "ada@example.com")
        #expect(lead.fields == ["first_name": "Ada"])
        #expect(lead.consent == Consent(source: "webform:whitepaper", at: now))
        #expect(lead.timeZone == nil)
    }

    @Test func consentIsRequired() {
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.consentSource = nil }, now: now) }
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.consentSource = "  " }, now: now) }
    }

    @Test func refusesControlCharactersInAnyValue() {
        for bad in ["Bob\r\nBcc: x@evil.example", "Bob\0", "Bob\u{85}", "a\u{2028}b"] {
            #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.fields["first_name"] = bad }, now: now) }
            #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.consentText = bad }, now: now) }
        }
    }

    @Test func refusesUnknownFieldsPersonasZonesAndLocales() {
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.fields["plan"] = "pro" }, now: now) }
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.persona = "cfo" }, now: now) }
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.timeZone = "Mars/Olympus" }, now: now) }
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.locale = "english" }, now: now) }
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.consentAt = "2999-01-01T00:00:00Z" }, now: now) }
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.consentIP = "1.2.3.4; DROP TABLE" }, now: now) }
    }

    @Test func recontactDateIsMidnightInTheLeadsZone() throws {
        let lead = try rules.lead(from: input { $0.timeZone = "America/New_York"; $0.recontactAfter = "2027-03-01" }, now: now)
        #expect(lead.recontactAfter == DateText.parse("2027-03-01T05:00:00Z", in: .gmt))
        #expect(throws: LeadRules.Problem.self) { try rules.lead(from: input { $0.recontactAfter = "2027-02-30" }, now: now) }
    }
}
