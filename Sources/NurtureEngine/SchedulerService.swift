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
    let health: HealthMonitor
    let notifier: SystemdNotifier?
    let logger: Logger

    /// - Parameters:
    ///   - health: told of every turn and every tick's success or failure (the watchdog and `/healthz` read it).
    ///   - notifier: gets a STATUS line now and then.
    public init(scheduler: Scheduler, store: SchedulerStore, clock: NurtureClock, pollInterval: TimeInterval,
                health: HealthMonitor = HealthMonitor(), notifier: SystemdNotifier? = nil, logger: Logger) {
        self.scheduler = scheduler
        self.store = store
        self.clock = clock
        self.pollInterval = pollInterval
        self.health = health
        self.notifier = notifier
        self.logger = logger
    }

    public func run() async throws {
        var lastSend: Date?
        var lastStatus: ContinuousClock.Instant?
        var failing: (reason: String, ticks: Int)? // a failure is logged once, then its end: not every second
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            health.progressed()
            if let notifier, notifier.isActive, lastStatus.map({ .now - $0 >= .seconds(5) }) ?? true {
                lastStatus = .now
                notifier.status(await statusLine(lastSend: lastSend))
            }
            let now = clock.now()
            var wake = now.addingTimeInterval(pollInterval)
            do {
                let report = try await scheduler.tick(now: now)
                health.tickSucceeded()
                if let f = failing {
                    logger.notice("scheduler recovered after \(f.ticks) failed ticks")
                    failing = nil
                }
                if report.entries.contains(where: { $0.kind == .sent }) { lastSend = now }
                log(report)
                switch NextWake.after(report, nextDue: report.moreWork ? nil : try await store.nextDueAt(), now: now, poll: pollInterval) {
                case .now: await Task.yield(); continue
                case .at(let date): wake = date
                case .idle: break
                }
            } catch {
                let reason = LogRedaction.addresses("\(error)")
                health.tickFailed(error)
                if failing?.reason != reason {
                    logger.error("scheduler tick failed: \(reason); retrying every \(pollInterval) s, delivered results kept until they commit")
                    failing = (reason, 0)
                }
                failing?.ticks += 1
            }
            do {
                try await cancelWhenGracefulShutdown { [clock, wake] in try await clock.sleep(until: wake) }
            } catch {
                break
            }
        }
        logger.info("scheduler stopped")
    }

    /// One line for `systemctl status`: the queue and the last send.
    private func statusLine(lastSend: Date?) async -> String {
        let depth = (try? await store.queueDepth()).map { "\($0.waiting) waiting, \($0.sending) sending" } ?? "queue unknown"
        return "outbox: \(depth); last send \(lastSend.map(DateText.iso) ?? "none yet")"
    }

    private func log(_ report: Scheduler.Report) {
        for e in report.entries where e.kind == .sent || e.kind == .deferred || e.kind == .failed {
            let result = e.kind == .failed && e.detail.hasPrefix("hard bounce") ? "bounced" : e.kind.rawValue
            Counter(label: "nurture_sends_total", dimensions: [("result", result)]).increment()
        }
        for e in report.entries where e.kind == .failed || e.kind == .deferred {
            // SMTP replies often quote the recipient: the lead is named by id, addresses are masked.
            logger.warning("\(e.kind.rawValue) \(e.sequenceID)/\(e.stepID) lead=\(e.leadID ?? 0) outbox=\(e.outboxID ?? 0): \(LogRedaction.addresses(e.detail))")
        }
        let kinds: [Scheduler.Report.Entry.Kind] = [.enrolled, .sent, .skipped, .passed, .exited, .postponed, .deferred, .failed]
        let counts = kinds.map { ($0, report.count($0)) }.filter { $0.1 > 0 }
        guard !counts.isEmpty else { return }
        let query = report.dueQuery.map { String(format: " (due batch found in %.1f ms)", $0.inSeconds * 1_000) } ?? ""
        logger.info("tick: \(counts.map { "\($0.1) \($0.0.rawValue)" }.joined(separator: ", "))\(query)")
    }
}

/// Reloads config, sequences and templates on SIGHUP.
public struct ReloadService: Service {
    let reloader: CatalogReloader
    let notifier: SystemdNotifier?
    let signals: UnixSignalsSequence

    /// - Parameter signals: SIGHUP, trapped by the caller at start-up: a reload asked for before this service runs
    ///   is then delivered here instead of killing the process (SIGHUP's default action).
    public init(reloader: CatalogReloader, notifier: SystemdNotifier? = nil, signals: UnixSignalsSequence) {
        self.reloader = reloader
        self.notifier = notifier
        self.signals = signals
    }

    public func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            notifier?.reloading()
            await reloader.reload()
            notifier?.ready(status: "reloaded at \(DateText.iso(Date()))")
        }
    }
}
