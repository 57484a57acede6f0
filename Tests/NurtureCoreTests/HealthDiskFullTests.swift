import NurtureCore
import Testing

/// A full disk is reported by name in health, without counting as a failing scheduler (issue 12, item 4).
struct HealthDiskFullTests {
    @Test func aFullDiskRaisesDiskFullButNeverStopsTheWatchdog() {
        let start = ContinuousClock.now
        let health = HealthMonitor(limits: .init(stalledAfter: .seconds(60), failingAfter: .seconds(300)), now: start)
        for minute in 0..<10 { health.tickFailed(StoreFailure.diskFull("database or disk is full"), at: start + .seconds(60 * minute)) }
        let full = health.report(at: start + .seconds(600))
        #expect(full.problems.map(\.condition.name) == ["disk_full"])
        #expect(!full.problems.contains { $0.condition.stopsWatchdog })
        health.tickSucceeded(at: start + .seconds(601))
        #expect(health.report(at: start + .seconds(601)).problems.isEmpty)
    }
}
