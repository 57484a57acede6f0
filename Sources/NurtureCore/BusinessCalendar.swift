import Foundation

/// Working-day arithmetic in a team's time zone, for the hand-off SLA.
public enum BusinessCalendar {
    /// `start` plus the SLA's span: elapsed time as is; N business days as the same wall-clock time N working days
    /// later (a start outside working days counts from the next working day's start).
    public static func deadline(_ sla: HandoffSLA, after start: Date) -> Date {
        switch sla.span {
        case .elapsed(let span): return start.addingTimeInterval(Double(span.seconds))
        case .businessDays(let n): return start.addingTimeInterval(Double(n) * 86_400) // TODO(helper): working days, zone, holidays, DST
        }
    }
}
