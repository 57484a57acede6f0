/// A named reason for `/healthz` to answer 503. Whoever detects a problem raises its condition on the daemon's
/// `HealthMonitor`; `stopsWatchdog` when a restart by systemd is the remedy (a stuck or failing scheduler), not
/// when it cannot help (a full disk would only restart in a loop).
public struct HealthCondition: Sendable, Hashable {
    public let name: String
    public let stopsWatchdog: Bool

    public init(_ name: String, stopsWatchdog: Bool) {
        self.name = name
        self.stopsWatchdog = stopsWatchdog
    }

    /// Neither the scheduler loop nor a transfer in progress showed a sign of life within the bound.
    public static let schedulerStalled = HealthCondition("scheduler_stalled", stopsWatchdog: true)
    /// Every tick has thrown for longer than `health.scheduler_failing_after`.
    public static let schedulerFailing = HealthCondition("scheduler_failing", stopsWatchdog: true)
    /// Commits fail for lack of space: delivered results wait in memory; a restart would not help.
    public static let diskFull = HealthCondition("disk_full", stopsWatchdog: false)
    /// The database does not answer a read.
    public static let databaseUnreachable = HealthCondition("database_unreachable", stopsWatchdog: false)
}
