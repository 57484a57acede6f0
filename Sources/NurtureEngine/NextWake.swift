import Foundation

/// When the scheduler loop ticks next, decided in one place for the daemon, `simulate` and the tests' harness.
public enum NextWake: Sendable, Hashable {
    /// A batch was full and more work waits: tick again without sleeping.
    case now
    case at(Date)
    /// Nothing is due, nothing polls (a virtual clock): the loop may end.
    case idle

    /// - Parameters:
    ///   - nextDue: the store's earliest due send; one already due that the tick left waiting is not a reason to
    ///     wake at once (the global rate's `wakeAt`, or the poll, says when it may go).
    ///   - poll: how often the daemon looks for work other processes added; nil on a virtual clock.
    public static func after(moreWork: Bool, wakeAt: Date?, nextDue: Date?, now: Date, poll: TimeInterval?) -> NextWake {
        if moreWork { return .now }
        var candidates: [Date] = []
        if let poll { candidates.append(now.addingTimeInterval(poll)) }
        if let wakeAt { candidates.append(wakeAt) }
        if let nextDue, nextDue > now { candidates.append(nextDue) }
        return candidates.min().map(NextWake.at) ?? .idle
    }

    /// A tick that did something may have planned a step due at once (a wait or branch right after a send): run
    /// again now. A tick that did nothing does not (what is due belongs to another node or waits for a token).
    public static func after(_ report: Scheduler.Report, nextDue: Date?, now: Date, poll: TimeInterval?) -> NextWake {
        if let nextDue, nextDue <= now, !report.entries.isEmpty, report.wakeAt == nil { return .now }
        return after(moreWork: report.moreWork, wakeAt: report.wakeAt, nextDue: nextDue, now: now, poll: poll)
    }

    /// The moment to wake, given other moments the caller waits for (scripted events); nil when there is none.
    public func earliest(with others: [Date], now: Date) -> Date? {
        switch self {
        case .now: now
        case .at(let date): (others + [date]).min()
        case .idle: others.min()
        }
    }
}
