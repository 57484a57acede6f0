import Metrics
import NurtureCore

/// `nurture_inbound_messages{outcome}`: inbound messages recorded, by outcome, counted from the store (the pipe runs
/// in other processes) at most once per `interval` however often `/metrics` is scraped.
final class InboundGauge: Sendable {
    private let throttle: ScrapeThrottle
    private let gauges: [InboundOutcome: Gauge]

    init(interval: Duration = .seconds(15)) {
        throttle = ScrapeThrottle(interval: interval)
        var all: [InboundOutcome: Gauge] = [:]
        for outcome in InboundOutcome.allCases { all[outcome] = Gauge(label: "nurture_inbound_messages", dimensions: [("outcome", outcome.rawValue)]) }
        gauges = all
    }

    func refreshIfStale(_ store: InboundStore) async {
        guard throttle.isDue(), let counts = try? await store.inboundCounts() else { return }
        for outcome in InboundOutcome.allCases { gauges[outcome]?.record(counts[outcome] ?? 0) }
    }
}
