import Synchronization

/// The scheduler loop beats on every turn; `/healthz` (and the systemd watchdog) check it is recent, so a stuck
/// scheduler shows as unhealthy even while the HTTP side still answers.
public final class SchedulerHeartbeat: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    public init() {}

    public func beat() { last.withLock { $0 = .now } }

    /// Time since the last beat, nil before the first.
    public var age: Duration? { last.withLock { $0.map { .now - $0 } } }
}
