import Logging
import NurtureCore
import ServiceLifecycle

/// Feeds the systemd watchdog from the daemon's health rather than from the scheduler loop itself: a tick that
/// waits on a slow relay still pings (its transfer loop shows it alive), while a stuck scheduler, or one whose
/// ticks have all failed for `health.scheduler_failing_after`, stops the pings and is restarted.
public struct WatchdogService: Service {
    let notifier: SystemdNotifier
    let health: HealthMonitor
    let logger: Logger

    public init(notifier: SystemdNotifier, health: HealthMonitor, logger: Logger) {
        self.notifier = notifier
        self.health = health
        self.logger = logger
    }

    public func run() async throws {
        // Without a watchdog there is nothing to do, but returning early would end the service before its turn in
        // the group's shutdown (an error when a stop arrives during start-up): wait for it instead.
        guard let interval = notifier.watchdogInterval else { return try await gracefulShutdown() }
        var withheld = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Signs of life must be under half the interval old: a daemon that stops turning is killed within it.
            let report = health.report(stalledAfter: interval / 2)
            if report.watchdogMayPing {
                if withheld { logger.notice("watchdog pings resumed") }
                withheld = false
                notifier.watchdog()
            } else if !withheld {
                withheld = true
                logger.error("watchdog pings stopped: \(report.problems.map { "\($0.condition.name): \($0.reason)" }.joined(separator: "; "))")
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval / 4) }
            } catch {
                break
            }
        }
    }
}
