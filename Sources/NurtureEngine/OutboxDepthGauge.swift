import Metrics
import NurtureCore
import NurtureHTTP
import Synchronization

/// `nurture_outbox_messages{status}`, counted at most once per `interval` however often `/metrics` is scraped:
/// a scrape reads the gauges in memory, and a scrape storm cannot turn into a `count(*)` storm on the database.
final class OutboxDepthGauge: Sendable {
    static let statuses = OutboxStatus.allCases.map(\.rawValue)
    let interval: Duration
    private let counted = Mutex<ContinuousClock.Instant?>(nil)
    private let gauges: [String: Gauge]

    init(interval: Duration = .seconds(15)) {
        self.interval = interval
        var all: [String: Gauge] = [:]
        for status in Self.statuses { all[status] = Gauge(label: "nurture_outbox_messages", dimensions: [("status", status)]) }
        gauges = all
    }

    func refreshIfStale(_ store: TrackingStore) async {
        let now = ContinuousClock.now
        let due = counted.withLock { last -> Bool in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
        guard due, let depth = try? await store.outboxDepth() else { return }
        for status in Self.statuses { gauges[status]?.record(depth[status] ?? 0) }
    }
}
