import Foundation
import Testing
import NurtureCore

struct BusinessCalendarTests {
    private func sla(_ days: Int, _ zone: String = "Europe/Paris", workdays: Set<Weekday> = [.mon, .tue, .wed, .thu, .fri],
                     holidays: Set<String> = []) -> HandoffSLA {
        HandoffSLA(span: .businessDays(days), timeZone: zone, workdays: workdays, holidays: holidays)
    }

    @Test func fridayAfternoonPlusTwoIsTuesdaySameTime() {
        // 2026-01-09 is a Friday; Paris is UTC+1 in January.
        #expect(sla(2).deadline(after: at("2026-01-09T14:00:00Z")) == at("2026-01-13T14:00:00Z"))
    }

    @Test func weekendStartCountsFromMondayMidnight() {
        #expect(sla(0).deadline(after: at("2026-01-10T09:30:00Z")) == at("2026-01-11T23:00:00Z"))
        #expect(sla(2).deadline(after: at("2026-01-10T09:30:00Z")) == at("2026-01-13T23:00:00Z"))
    }

    @Test func holidaysAreSkipped() {
        let start = at("2026-01-09T14:00:00Z")
        #expect(sla(2, holidays: ["2026-01-12"]).deadline(after: start) == at("2026-01-14T14:00:00Z"))
        // A start on a holiday counts from the next working day's start.
        #expect(sla(1, holidays: ["2026-01-09"]).deadline(after: start) == at("2026-01-12T23:00:00Z"))
    }

    @Test func configuredWorkdays() {
        let sundayToThursday: Set<Weekday> = [.sun, .mon, .tue, .wed, .thu]
        // Thursday 15:00 + 1 → Sunday 15:00.
        #expect(sla(1, "UTC", workdays: sundayToThursday).deadline(after: at("2026-01-08T15:00:00Z")) == at("2026-01-11T15:00:00Z"))
    }

    @Test func parisSpringForwardKeepsWallClock() {
        // Friday 2026-03-27 15:00 CET (UTC+1) → Tuesday 2026-03-31 15:00 CEST (UTC+2).
        #expect(sla(2).deadline(after: at("2026-03-27T14:00:00Z")) == at("2026-03-31T13:00:00Z"))
    }

    @Test func parisFallBackKeepsWallClock() {
        // Friday 2026-10-23 15:00 CEST (UTC+2) → Tuesday 2026-10-27 15:00 CET (UTC+1).
        #expect(sla(2).deadline(after: at("2026-10-23T13:00:00Z")) == at("2026-10-27T14:00:00Z"))
    }

    @Test func missingWallClockTakesTheNextValidInstant() {
        let everyDay = Set(Weekday.allCases)
        // 02:30 does not exist in Paris on 2026-03-29: clocks jump from 02:00 to 03:00 CEST (01:00 UTC).
        #expect(sla(1, workdays: everyDay).deadline(after: at("2026-03-28T01:30:00Z")) == at("2026-03-29T01:00:00Z"))
        // New York on 2026-03-08: 02:30 EST does not exist; 03:00 EDT is 07:00 UTC.
        #expect(sla(1, "America/New_York", workdays: everyDay).deadline(after: at("2026-03-07T07:30:00Z")) == at("2026-03-08T07:00:00Z"))
    }

    @Test func repeatedWallClockTakesTheFirstOccurrence() {
        let everyDay = Set(Weekday.allCases)
        // New York on 2026-11-01: 01:30 happens twice; the first is 01:30 EDT (05:30 UTC).
        #expect(sla(1, "America/New_York", workdays: everyDay).deadline(after: at("2026-10-31T05:30:00Z")) == at("2026-11-01T05:30:00Z"))
        // Paris on 2026-10-25: 02:30 happens twice; the first is 02:30 CEST (00:30 UTC).
        #expect(sla(1, workdays: everyDay).deadline(after: at("2026-10-24T00:30:00Z")) == at("2026-10-25T00:30:00Z"))
    }

    @Test func newYorkAcrossBothChanges() {
        // Friday 2026-03-06 09:00 EST → Tuesday 2026-03-10 09:00 EDT; Friday 2026-10-30 09:00 EDT → Tuesday 09:00 EST.
        #expect(sla(2, "America/New_York").deadline(after: at("2026-03-06T14:00:00Z")) == at("2026-03-10T13:00:00Z"))
        #expect(sla(2, "America/New_York").deadline(after: at("2026-10-30T13:00:00Z")) == at("2026-11-03T14:00:00Z"))
    }

    @Test func elapsedAddsTheSpan() {
        let elapsed = HandoffSLA(span: .elapsed(.hours(48)), timeZone: "Europe/Paris")
        #expect(elapsed.deadline(after: at("2026-01-09T14:00:00Z")) == at("2026-01-11T14:00:00Z"))
    }

    @Test func noWorkdaysFallsBackToCalendarDays() {
        #expect(sla(2, workdays: []).deadline(after: at("2026-01-09T14:00:00Z")) == at("2026-01-11T14:00:00Z"))
    }
}
