/// When a lead may receive mail: some days of the week, between two local times, in the lead's own time zone.
public struct SendWindow: Hashable, Sendable {
    public var days: Set<Weekday>
    /// Minutes after local midnight; `start < end`.
    public var startMinute: Int
    public var endMinute: Int
    /// `window.timezone`: the zone for leads that have none of their own (before the config's default).
    public var timeZone: String?
    /// `window.except`: local dates (`2026-12-25`) on which nothing is sent, in the lead's zone like the window.
    public var except: Set<String> = []

    public init(days: Set<Weekday>, startMinute: Int, endMinute: Int, timeZone: String? = nil) {
        self.days = days
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.timeZone = timeZone
    }

    /// The zone a lead is windowed in: its own, else the window's, else the configured default. The one rule for the
    /// daemon, `simulate` and every other caller.
    public func zoneName(lead: String?, default fallback: String) -> String { lead ?? timeZone ?? fallback }

    /// Always open: the default when a sequence declares no window.
    public static let always = SendWindow(days: Set(Weekday.allCases), startMinute: 0, endMinute: 24 * 60)

    /// Parses `HH:MM-HH:MM` into minutes after midnight; `24:00` is allowed as an end.
    public static func parseHours(_ text: String) -> (start: Int, end: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2,
              let start = parseClock(parts[0].trimmingSpaces), let end = parseClock(parts[1].trimmingSpaces),
              start < end else { return nil }
        return (start, end)
    }

    static func parseClock(_ text: Substring) -> Int? {
        let hm = text.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, hm[0].count == 2, hm[1].count == 2,
              let h = Int(hm[0]), let m = Int(hm[1]), (0...24).contains(h), (0...59).contains(m),
              h < 24 || m == 0 else { return nil }
        return h * 60 + m
    }

    public var hoursDescription: String {
        func clock(_ m: Int) -> String {
            let h = m / 60, mm = m % 60
            return (h < 10 ? "0" : "") + "\(h):" + (mm < 10 ? "0" : "") + "\(mm)"
        }
        return "\(clock(startMinute))-\(clock(endMinute))"
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
