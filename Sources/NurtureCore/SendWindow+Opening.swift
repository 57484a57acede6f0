import Foundation

extension SendWindow {
    /// The first instant at or after `t` when the window is open, in `zone`'s local time (DST-aware).
    public func nextOpening(atOrAfter t: Date, in zone: TimeZone) -> Date {
        if days.count == 7 && startMinute == 0 && endMinute == 24 * 60 { return t }
        guard !days.isEmpty else { return t }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: t)
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today),
                  let weekday = Weekday(gregorianNumber: calendar.component(.weekday, from: day)),
                  days.contains(weekday) else { continue }
            let open = Self.localTime(minute: startMinute, on: day, calendar)
            let close = Self.localTime(minute: endMinute, on: day, calendar)
            if t < close { return max(t, open) }
        }
        return t
    }

    /// True when `t` falls inside the window.
    public func isOpen(at t: Date, in zone: TimeZone) -> Bool { nextOpening(atOrAfter: t, in: zone) == t }

    /// Local wall-clock time on a day; a time skipped by a DST jump resolves to the first instant after the jump.
    static func localTime(minute: Int, on day: Date, _ calendar: Calendar) -> Date {
        if minute >= 24 * 60 { return calendar.date(byAdding: .day, value: 1, to: day).map(calendar.startOfDay) ?? day }
        return calendar.nextDate(after: day.addingTimeInterval(-1), matching: DateComponents(hour: minute / 60, minute: minute % 60, second: 0),
                                 matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward) ?? day
    }
}
