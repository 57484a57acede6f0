import Foundation
import Testing
import NurtureCore
@testable import NurtureAuthoring

/// `handoff:` outcomes and SLA, and thresholds' `when:`, are read with their defaults and every mistake located.
struct HandoffConfigTests {
    static func load(_ extra: String, timezone: String = "Europe/Paris") throws -> (NurtureConfig?, [String]) {
        let dir = try ConfigDiscoveryTests.write("timezone: \(timezone)\n" + ConfigDiscoveryTests.yaml + "\n" + extra)
        let sink = DiagnosticSink()
        let config = ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: [:])
        return (config, sink.items.map(\.description))
    }

    @Test func withoutTheNewKeysEverythingIsDefault() throws {
        let (config, problems) = try Self.load("handoff: { email: sales@example.com }")
        let c = try #require(config, "\(problems)")
        #expect(c.handoff.outcomes == HandoffOutcomeRule.allDefaults)
        #expect(c.handoff.sla == nil)
        #expect(c.handoff.renotify == nil)
    }

    @Test func outcomesOverrideOnlyWhatTheySay() throws {
        let (config, problems) = try Self.load("""
            handoff:
              email: sales@example.com
              outcomes:
                won: { enroll: customer-onboarding, score: reset }
                recycled: { enroll: cto-nurture, after: 30d, stop_nurturing: false }
                rejected: { stage: disqualified, score: keep }
            """)
        let c = try #require(config, "\(problems)")
        #expect(c.handoff.outcomes[.won] == HandoffOutcomeRule(stage: .customer, enroll: "customer-onboarding", resetScore: true))
        #expect(c.handoff.outcomes[.recycled] == HandoffOutcomeRule(stage: .lead, enroll: "cto-nurture", after: .days(30), stopNurturing: false))
        #expect(c.handoff.outcomes[.rejected] == HandoffOutcomeRule(stage: .disqualified))
        #expect(c.handoff.outcomes[.accepted] == HandoffOutcomeRule.defaults(for: .accepted))
        #expect(c.positions.outcomeEnrolls[.won]?.line == 10)
    }

    @Test func businessDaySLAWithItsCalendar() throws {
        let (config, problems) = try Self.load("""
            handoff:
              webhook: https://crm.example.com/hook
              email: sales@example.com
              sla: 2 business days
              time_zone: America/New_York
              workdays: [mon, tue, wed, thu]
              holidays: [2026-12-25, 2027-01-01]
              renotify: [email]
            """)
        let c = try #require(config, "\(problems)")
        #expect(c.handoff.sla == HandoffSLA(span: .businessDays(2), timeZone: "America/New_York", workdays: [.mon, .tue, .wed, .thu],
                                            holidays: ["2026-12-25", "2027-01-01"]))
        #expect(c.handoff.renotify == ["email"])
    }

    @Test func elapsedSLAUsesTheConfigsTimeZone() throws {
        let (config, problems) = try Self.load("handoff: { email: sales@example.com, sla: 48h }")
        let c = try #require(config, "\(problems)")
        #expect(c.handoff.sla == HandoffSLA(span: .elapsed(.hours(48)), timeZone: "Europe/Paris"))
        let one = try #require(try Self.load("handoff: { email: s@example.com, sla: 1 business day }").0)
        #expect(one.handoff.sla?.span == .businessDays(1))
    }

    @Test func mistakesAreLocatedAndRefused() throws {
        let (config, problems) = try Self.load("""
            handoff:
              email: sales@example.com
              outcomes:
                sold: { stage: customer }
                won: { stage: client, score: zero, colour: red }
              sla: 2 working days
              time_zone: Europe/Pariss
              workdays: [mon, funday]
              holidays: [2026-02-30, 25/12/2026]
              renotify: [webhook, sms]
            """)
        #expect(config == nil)
        let text = problems.joined(separator: "\n")
        #expect(text.contains("nurture.yaml:10:5: error: unknown outcome 'sold' in 'handoff.outcomes'; expected one of: accepted, rejected, recycled, won, lost"), "\(text)")
        #expect(text.contains("nurture.yaml:11:19: error: unknown stage 'client'") && text.contains("ambassador, disqualified"), "\(text)")
        #expect(text.contains("score must be 'reset' or 'keep'"), "\(text)")
        #expect(text.contains("unknown key 'colour'"), "\(text)")
        #expect(text.contains("nurture.yaml:12:8: error: 'handoff.sla' must read like '2 business days'"), "\(text)")
    }

    @Test func calendarMistakesAreLocated() throws {
        let (config, problems) = try Self.load("""
            handoff:
              email: sales@example.com
              sla: 400 business days
            """)
        #expect(config == nil)
        #expect(problems.joined().contains("counts 1 to 365 business days"), "\(problems)")
        let (_, more) = try Self.load("""
            handoff:
              email: sales@example.com
              sla: 0h
              time_zone: Europe/Pariss
              workdays: [mon, funday, mon]
              holidays: [2026-02-30, 25/12/2026, 2026-12-25]
              renotify: [webhook, sms]
            """)
        let text = more.joined(separator: "\n")
        #expect(text.contains("nurture.yaml:9:8: error: 'handoff.sla' must be longer than zero"), "\(text)")
        let (_, calendar) = try Self.load("""
            handoff:
              email: sales@example.com
              sla: 1d
              time_zone: Europe/Pariss
              workdays: [mon, funday, mon]
              holidays: [2026-02-30, 25/12/2026, 2026-12-25]
              renotify: [webhook, sms]
            """)
        let all = calendar.joined(separator: "\n")
        #expect(all.contains("nurture.yaml:10:14: error: unknown time zone 'Europe/Pariss'"), "\(all)")
        #expect(all.contains("nurture.yaml:11:19: error: unknown day 'funday' in 'handoff.workdays'"), "\(all)")
        #expect(all.contains("nurture.yaml:11:27: error: day 'mon' is listed twice"), "\(all)")
        #expect(all.contains("nurture.yaml:12:14: error: holiday '2026-02-30' must be a date written YYYY-MM-DD"), "\(all)")
        #expect(all.contains("nurture.yaml:12:26: error: holiday '25/12/2026'"), "\(all)")
        #expect(!all.contains("holiday '2026-12-25'"), "\(all)")
        #expect(all.contains("nurture.yaml:13:14: error: 'handoff.renotify' names 'webhook', but 'handoff.webhook' is not configured"), "\(all)")
        #expect(all.contains("nurture.yaml:13:23: error: unknown channel 'sms'"), "\(all)")
    }

    @Test func calendarKeysNeedAnSLA() throws {
        let (config, problems) = try Self.load("""
            handoff:
              email: sales@example.com
              time_zone: Europe/Paris
              renotify: [email]
            """)
        #expect(config == nil)
        let text = problems.joined(separator: "\n")
        #expect(text.contains("nurture.yaml:9:3: error: 'handoff.time_zone' applies only with 'handoff.sla'"), "\(text)")
        #expect(text.contains("'handoff.renotify' applies only with 'handoff.sla'"), "\(text)")
    }

    @Test func thresholdsTakeAWhenCondition() throws {
        let (config, problems) = try Self.load("""
            scoring:
              thresholds:
                - { at: 40, when: "stage == customer and fit >= 10", stage: ambassador }
            """)
        let c = try #require(config, "\(problems)")
        #expect(c.scoring.thresholds.first?.when == LeadCondition(terms: [.stage(equal: true, .customer), .fit(.atLeast, 10)]))
        let (bad, badProblems) = try Self.load("""
            scoring:
              thresholds:
                - { at: 40, when: "stage == client", stage: ambassador }
                - { at: 50, when: "score = 50", stage: sql }
            """)
        #expect(bad == nil)
        let text = badProblems.joined(separator: "\n")
        #expect(text.contains("nurture.yaml:9:23: error: bad condition 'stage == client': unknown stage 'client'"), "\(text)")
        #expect(text.contains("nurture.yaml:10:23: error: bad condition 'score = 50': '=' is not a comparison"), "\(text)")
    }
}
