import Synchronization

/// The daemon's health as the parts that do the work see it: the scheduler reports each tick's end, the loops
/// that wait on something (the scheduler between ticks, a transport's threads during a transfer) report that
/// they still turn, and any part may raise a named condition. `/healthz` and the watchdog read one report, so
/// they always agree. Times are monotonic and passed in, so the decisions can be tested without waiting.
public final class HealthMonitor: Sendable {
    public struct Limits: Sendable {
        /// Without any sign of life for this long the scheduler is stalled (`/healthz`; the watchdog uses its own).
        public var stalledAfter: Duration = .seconds(60)
        /// Ticks that all fail for this long make the scheduler failing.
        public var failingAfter: Duration = .seconds(300)

        public init(stalledAfter: Duration = .seconds(60), failingAfter: Duration = .seconds(300)) {
            self.stalledAfter = stalledAfter
            self.failingAfter = failingAfter
        }
    }

    struct State {
        var lastProgress: ContinuousClock.Instant
        var failingSince: ContinuousClock.Instant?
        var lastError = ""
        var raised: [String: HealthReport.Problem] = [:]
    }

    public let limits: Limits
    private let state: Mutex<State>

    public init(limits: Limits = Limits(), now: ContinuousClock.Instant = .now) {
        self.limits = limits
        state = Mutex(State(lastProgress: now))
    }

    /// A loop turned or a transfer moved on: the daemon is not stuck.
    public func progressed(at now: ContinuousClock.Instant = .now) {
        state.withLock { $0.lastProgress = max($0.lastProgress, now) }
    }

    public func tickSucceeded(at now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.lastProgress = max($0.lastProgress, now)
            $0.failingSince = nil
            $0.raised.removeValue(forKey: HealthCondition.diskFull.name)
        }
    }

    /// A tick threw: the loop still turns, but from the first of a run of failures the clock for `failingAfter` runs.
    public func tickFailed(_ error: String, at now: ContinuousClock.Instant = .now) {
        state.withLock {
            $0.lastProgress = max($0.lastProgress, now)
            $0.failingSince = $0.failingSince ?? now
            $0.lastError = error
        }
    }

    /// A tick's outcome as health sees it: a full disk raises `disk_full` (reported, never "failing", so the
    /// watchdog does not restart the daemon in a loop it cannot fix); any other error counts toward failing.
    public func tickFailed(_ error: any Error, at now: ContinuousClock.Instant = .now) {
        if case StoreFailure.diskFull(let detail) = error {
            raise(.diskFull, reason: "commits fail for lack of disk space (\(detail)); delivered results are kept until they commit")
            progressed(at: now)
        } else {
            clear(.diskFull)
            tickFailed(LogRedaction.addresses("\(error)"), at: now)
        }
    }

    public func raise(_ condition: HealthCondition, reason: String) {
        state.withLock { $0.raised[condition.name] = .init(condition, reason: reason) }
    }

    public func clear(_ condition: HealthCondition) {
        _ = state.withLock { $0.raised.removeValue(forKey: condition.name) }
    }

    /// - Parameter stalledAfter: the watchdog passes half its interval; `/healthz` keeps the limit's.
    public func report(at now: ContinuousClock.Instant = .now, stalledAfter: Duration? = nil) -> HealthReport {
        state.withLock { s in
            var problems = Array(s.raised.values)
            let silent = now - s.lastProgress
            if silent > (stalledAfter ?? limits.stalledAfter) {
                problems.append(.init(.schedulerStalled, reason: "no progress from the scheduler or a transfer for \(Self.text(silent))"))
            }
            if let since = s.failingSince, now - since >= limits.failingAfter {
                problems.append(.init(.schedulerFailing, reason: "every tick has failed for \(Self.text(now - since)): \(s.lastError)"))
            }
            return HealthReport(problems: problems)
        }
    }

    static func text(_ d: Duration) -> String {
        let s = d.components.seconds
        return s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }
}
