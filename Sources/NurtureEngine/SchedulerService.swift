import Foundation
import Logging
import Metrics
import NurtureCore
import NurtureHTTP
import ServiceLifecycle
import UnixSignals

/// The daemon's main loop: tick, then sleep until the next due send (or a poll interval, for new leads added by
/// other processes). On graceful shutdown it stops taking new work; a tick in progress finishes its transfers.
public struct SchedulerService: Service {
    let scheduler: Scheduler
    let store: SchedulerStore
    let clock: NurtureClock
    /// In the clock's time; a scaled demo clock gets a proportionally longer one.
    let pollInterval: TimeInterval
    let heartbeat: SchedulerHeartbeat
    let logger: Logger

    public init(scheduler: Scheduler, store: SchedulerStore, clock: NurtureClock, pollInterval: TimeInterval,
                heartbeat: SchedulerHeartbeat = SchedulerHeartbeat(), logger: Logger) {
        self.scheduler = scheduler
        self.store = store
        self.clock = clock
        self.pollInterval = pollInterval
        self.heartbeat = heartbeat
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            heartbeat.beat()
            let now = clock.now()
            var wake = now.addingTimeInterval(pollInterval)
            do {
                let report = try await scheduler.tick(now: now)
                log(report)
                if report.moreWork { await Task.yield(); continue }
                if let w = report.wakeAt { wake = min(wake, w) }
                if let due = try store.nextDueAt(), due > now { wake = min(wake, due) }
            } catch {
                logger.error("scheduler tick failed: \(error)")
            }
            do {
                try await cancelWhenGracefulShutdown { [clock, wake] in try await clock.sleep(until: wake) }
            } catch {
                break
            }
        }
        logger.info("scheduler stopped")
    }

    private func log(_ report: Scheduler.Report) {
        for e in report.entries where e.kind == .sent || e.kind == .deferred || e.kind == .failed {
            let result = e.kind == .failed && e.detail.hasPrefix("hard bounce") ? "bounced" : e.kind.rawValue
            Counter(label: "nurture_sends_total", dimensions: [("result", result)]).increment()
        }
        for e in report.entries where e.kind == .failed || e.kind == .deferred {
            logger.warning("\(e.kind.rawValue) \(e.sequenceID)/\(e.stepID) outbox=\(e.outboxID ?? 0): \(e.detail)")
        }
        let kinds: [Scheduler.Report.Entry.Kind] = [.enrolled, .sent, .skipped, .exited, .postponed, .deferred, .failed]
        let counts = kinds.map { ($0, report.count($0)) }.filter { $0.1 > 0 }
        if !counts.isEmpty { logger.info("tick: \(counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", "))") }
    }
}

/// Reloads config, sequences and templates on SIGHUP.
public struct ReloadService: Service {
    let reloader: CatalogReloader

    public init(reloader: CatalogReloader) { self.reloader = reloader }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            reloader.reload()
        }
    }
}
