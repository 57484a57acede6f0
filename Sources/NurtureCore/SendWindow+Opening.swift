import Foundation

extension SendWindow {
    /// The first instant at or after `t` when the window is open, in `zone`'s local time (DST-aware).
    /// Dates in `except` are skipped whole, in the same local calendar.
    public func nextOpening(atOrAfter t: Date, in zone: TimeZone) -> Date {
        if days.count == 7 && startMinute == 0 && endMinute == 24 * 60 && except.isEmpty { return t }
        guard !days.isEmpty else { return t }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: t)
        // A week past the last blackout date is always enough to find an open day.
        for offset in 0...(7 + except.count) {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today),
                  let weekday = Weekday(gregorianNumber: calendar.component(.weekday, from: day)),
                  days.contains(weekday) else { continue }
            if !except.isEmpty, except.contains(Self.dateText(day, calendar)) { continue }
            let open = Self.localTime(minute: startMinute, on: day, calendar)
            let close = Self.localTime(minute: endMinute, on: day, calendar)
            if t < close { return max(t, open) }
        }
        return t
    }

    /// `YYYY-MM-DD` of a local day, as `window.except` writes it.
    static func dateText(_ day: Date, _ calendar: Calendar) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: day)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(c.year ?? 0)-\(two(c.month ?? 0))-\(two(c.day ?? 0))"
    }

    /// Checks a `window.except` date: `YYYY-MM-DD`, a real day of the Gregorian calendar.
    public static func isBlackoutDate(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1 else { return false }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d <= lengths[m - 1]
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
