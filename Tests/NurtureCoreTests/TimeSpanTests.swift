import Testing
import NurtureCore

struct TimeSpanTests {
    @Test(arguments: [("0m", 0), ("90s", 90), ("3h", 10_800), ("2d", 172_800), ("1w", 604_800), ("1d12h", 129_600)])
    func parses(_ text: String, _ seconds: Int64) {
        #expect(TimeSpan(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "3", "d", "3 days", "3x", "-1d", "1.5h", "1d 2h", "9999999999d"])
    func refuses(_ text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func describesCanonically() {
        #expect(TimeSpan(seconds: 129_600).description == "1d12h")
        #expect(TimeSpan.zero.description == "0m")
        #expect(TimeSpan(parsing: "36h")?.description == "1d12h")
    }
}

struct SendWindowTests {
    @Test func parsesHours() {
        #expect(SendWindow.parseHours("09:00-17:30")! == (540, 1050))
        #expect(SendWindow.parseHours("00:00-24:00")! == (0, 1440))
        #expect(SendWindow.parseHours(" 08:15 - 12:00 ")! == (495, 720))
    }

    @Test(arguments: ["17:00-09:00", "9:00-17:00", "09:00", "09:00-09:00", "25:00-26:00", "09:60-10:00", "24:30-24:45", "ab:cd-ef:gh"])
    func refusesBadHours(_ text: String) {
        #expect(SendWindow.parseHours(text) == nil)
    }

    @Test func describesHours() {
        #expect(SendWindow(days: [.mon], startMinute: 540, endMinute: 1050).hoursDescription == "09:00-17:30")
    }
}

struct ConditionTests {
    @Test func parses() {
        #expect(Condition(parsing: "clicked(welcome)") == .clicked(step: "welcome"))
        #expect(Condition(parsing: " opened( case-study ) ") == .opened(step: "case-study"))
    }

    @Test(arguments: ["clicked welcome", "clicked()", "visited(x)", "clicked(Welcome)", "clicked(a b)", "opened(x"])
    func refuses(_ text: String) {
        #expect(Condition(parsing: text) == nil)
    }
}

struct EntryGateTests {
    @Test func overlapUnlessAFilterContradicts() {
        let any = EntryGate()
        let fr = EntryGate(match: ["country": "FR"])
        let de = EntryGate(match: ["country": "DE"])
        let frCTO = EntryGate(match: ["country": "FR", "job_title": "CTO"])
        #expect(any.overlaps(fr) && fr.overlaps(any))
        #expect(!fr.overlaps(de) && !de.overlaps(fr))
        #expect(fr.overlaps(frCTO) && frCTO.overlaps(fr))
        #expect(!de.overlaps(frCTO))
    }

    @Test func scoreExpression() {
        #expect(ScoreExpression.parseAtLeast("score >= 50") == 50)
        #expect(ScoreExpression.parseAtLeast("score>=12.5") == 12.5)
        #expect(ScoreExpression.parseAtLeast("score > 50") == nil)
        #expect(ScoreExpression.parseAtLeast("points >= 50") == nil)
    }
}
