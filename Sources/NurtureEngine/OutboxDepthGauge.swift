import Metrics
import NurtureCore
import NurtureHTTP

/// `nurture_outbox_messages{status}`, counted at most once per `interval` however often `/metrics` is scraped:
/// a scrape reads the gauges in memory, and a scrape storm cannot turn into a `count(*)` storm on the database.
final class OutboxDepthGauge: Sendable {
    static let statuses = OutboxStatus.allCases.map(\.rawValue)
    private let throttle: ScrapeThrottle
    private let gauges: [String: Gauge]

    init(interval: Duration = .seconds(15)) {
        throttle = ScrapeThrottle(interval: interval)
        var all: [String: Gauge] = [:]
        for status in Self.statuses { all[status] = Gauge(label: "nurture_outbox_messages", dimensions: [("status", status)]) }
        gauges = all
    }

    func refreshIfStale(_ store: TrackingStore) async {
        guard throttle.isDue(), let depth = try? await store.outboxDepth() else { return }
        for status in Self.statuses { gauges[status]?.record(depth[status] ?? 0) }
    }
}
