import Foundation
import Metrics
import NurtureCore

/// `nurture_handoffs{state}`: hand-offs to sales by answer (accepted, rejected, recycled, won, lost) and those
/// still awaiting one (`awaiting`, of which `overdue` past the SLA), counted from the store (answers come through
/// any node, or the CLI) at most once per `interval` however often `/metrics` is scraped.
final class HandoffGauge: Sendable {
    private let throttle: ScrapeThrottle
    private let gauges: [String: Gauge]
    static let states = HandoffOutcome.allCases.map(\.rawValue) + ["awaiting", "overdue"]

    init(interval: Duration = .seconds(15)) {
        throttle = ScrapeThrottle(interval: interval)
        gauges = Dictionary(uniqueKeysWithValues: Self.states.map { ($0, Gauge(label: "nurture_handoffs", dimensions: [("state", $0)])) })
    }

    func refreshIfStale(_ store: HandoffStore, now: Date) async {
        guard throttle.isDue(), let rows = try? await store.handoffStats(now: now) else { return }
        let total = HandoffStats.total(rows)
        for outcome in HandoffOutcome.allCases { gauges[outcome.rawValue]?.record(total.outcomes[outcome] ?? 0) }
        gauges["awaiting"]?.record(total.awaiting)
        gauges["overdue"]?.record(total.overdue)
    }
}
