import Metrics
import NurtureCore
import Synchronization

/// `nurture_inbound_messages{outcome}`: inbound messages recorded, by outcome, counted from the store (the pipe runs
/// in other processes) at most once per `interval` however often `/metrics` is scraped.
final class InboundGauge: Sendable {
    let interval: Duration
    private let counted = Mutex<ContinuousClock.Instant?>(nil)
    private let gauges: [InboundOutcome: Gauge]

    init(interval: Duration = .seconds(15)) {
        self.interval = interval
        var all: [InboundOutcome: Gauge] = [:]
        for outcome in InboundOutcome.allCases { all[outcome] = Gauge(label: "nurture_inbound_messages", dimensions: [("outcome", outcome.rawValue)]) }
        gauges = all
    }

    func refreshIfStale(_ store: InboundStore) async {
        let now = ContinuousClock.now
        let due = counted.withLock { last -> Bool in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
        guard due, let counts = try? await store.inboundCounts() else { return }
        for outcome in InboundOutcome.allCases { gauges[outcome]?.record(counts[outcome] ?? 0) }
    }
}
