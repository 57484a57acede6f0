import Foundation

/// Working-day arithmetic in a team's time zone, for the hand-off SLA.
public enum BusinessCalendar {
    /// The most working days an SLA may count (config refuses more), so a deadline is always a bounded walk.
    public static let maximumDays = 365

    /// `start` plus the SLA's span: elapsed time as is; N business days as the same wall-clock time N working days
    /// later (a start outside working days counts from the next working day's start).
    public static func deadline(_ sla: HandoffSLA, after start: Date) -> Date {
        switch sla.span {
        case .elapsed(let span):
            return start.addingTimeInterval(Double(span.seconds))
        case .businessDays(let n):
            let zone = TimeZone(identifier: sla.timeZone) ?? TimeZone(identifier: "UTC")!
            return businessDays(min(max(n, 0), maximumDays), after: start, in: zone, workdays: sla.workdays,
                                holidays: sla.holidays) ?? start.addingTimeInterval(Double(n) * 86_400)
        }
    }

    /// Walks local dates on a zone-free calendar (so DST never shifts a day), then maps the wall-clock time back
    /// into the zone; nil when no working day exists (no workdays configured).
    static func businessDays(_ n: Int, after start: Date, in zone: TimeZone, workdays: Set<Weekday>,
                             holidays: Set<String>) -> Date? {
        guard !workdays.isEmpty else { return nil }
        // "Local" dates below are the wall-clock reading expressed as if it were UTC.
        var local = start.addingTimeInterval(Double(zone.secondsFromGMT(for: start)))
        var day = utc.startOfDay(for: local)
        var clock = local.timeIntervalSince(day)
        if !isWorking(day, workdays, holidays) {
            guard let next = nextWorking(after: day, workdays, holidays) else { return nil }
            day = next
            clock = 0
        }
        for _ in 0..<n {
            guard let next = nextWorking(after: day, workdays, holidays) else { return nil }
            day = next
        }
        local = day.addingTimeInterval(clock)
        return instant(ofLocal: local, in: zone)
    }

    /// The instant a zone's clocks read `local`: the earlier one when the reading happens twice (fall back), and
    /// the end of the gap when it never happens (spring forward).
    static func instant(ofLocal local: Date, in zone: TimeZone) -> Date {
        let before = Double(zone.secondsFromGMT(for: local.addingTimeInterval(-86_400)))
        let after = Double(zone.secondsFromGMT(for: local.addingTimeInterval(86_400)))
        let candidates = [local.addingTimeInterval(-max(before, after)), local.addingTimeInterval(-min(before, after))]
        if let hit = candidates.first(where: { reading($0, zone) == local }) { return hit }
        // In a gap: the first instant whose reading is at or past `local` is the transition; search whole seconds.
        var lo = candidates[0].timeIntervalSinceReferenceDate.rounded(.down)
        var hi = candidates[1].timeIntervalSinceReferenceDate.rounded(.up)
        if lo > hi { swap(&lo, &hi) }
        while hi - lo > 1 {
            let mid = ((lo + hi) / 2).rounded(.down)
            if reading(Date(timeIntervalSinceReferenceDate: mid), zone) >= local { hi = mid } else { lo = mid }
        }
        let low = Date(timeIntervalSinceReferenceDate: lo)
        return reading(low, zone) >= local ? low : Date(timeIntervalSinceReferenceDate: hi)
    }

    private static func reading(_ instant: Date, _ zone: TimeZone) -> Date {
        instant.addingTimeInterval(Double(zone.secondsFromGMT(for: instant)))
    }

    private static func nextWorking(after day: Date, _ workdays: Set<Weekday>, _ holidays: Set<String>) -> Date? {
        var candidate = day
        // Two years of holidays at most: past that, the configuration has no working day at all.
        for _ in 0..<(366 * 2) {
            candidate = candidate.addingTimeInterval(86_400)
            if isWorking(candidate, workdays, holidays) { return candidate }
        }
        return nil
    }

    private static func isWorking(_ day: Date, _ workdays: Set<Weekday>, _ holidays: Set<String>) -> Bool {
        let parts = utc.dateComponents([.year, .month, .day, .weekday], from: day)
        guard let weekday = parts.weekday.flatMap(Weekday.init(gregorianNumber:)), workdays.contains(weekday) else { return false }
        return !holidays.contains(isoDate(year: parts.year ?? 0, month: parts.month ?? 0, day: parts.day ?? 0))
    }

    static func isoDate(year: Int, month: Int, day: Int) -> String {
        func pad(_ n: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(n).count)) + String(n) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
