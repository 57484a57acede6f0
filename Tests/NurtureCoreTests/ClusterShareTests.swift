import Foundation
import Testing
import NurtureCore

/// Each live node of a cluster applies its share of the limits, so their sum is what the operator configured.
struct ClusterShareTests {
    let throttle = ThrottlePolicy(minGap: .hours(1), maxCount: 3, maxWindow: .days(7), globalRate: 60, domainRate: 9, domainConcurrency: 4)

    @Test func threeNodesEachTakeAThirdOfTheRatesAndConcurrencyButFatigueStaysWhole() {
        let shares = (0..<3).map { ClusterShare(nodes: 3, rank: $0).apply(to: throttle) }
        #expect(shares.allSatisfy { $0.globalRate == 20 && $0.domainRate == 3 })
        // Four connections over three nodes: the first gets the remainder, the sum is the limit.
        #expect(shares.map(\.domainConcurrency) == [2, 1, 1])
        #expect(shares.allSatisfy { $0.minGap == throttle.minGap && $0.maxCount == throttle.maxCount && $0.maxWindow == throttle.maxWindow })
    }

    @Test func aNodeAloneKeepsTheLimitsAsConfigured() {
        #expect(ClusterShare.alone.apply(to: throttle) == throttle)
        #expect(ClusterShare(nodes: 0).nodes == 1) // before the first heartbeat answered: alone
    }

    @Test func withMoreNodesThanConnectionsTheLastNodesDeliverNothingAndTheOthersShareTheRates() {
        let shares = (0..<5).map { ClusterShare(nodes: 5, rank: $0).apply(to: throttle) }
        #expect(shares.map(\.domainConcurrency) == [1, 1, 1, 1, 0])
        #expect(shares.allSatisfy { $0.globalRate == 15 }) // 60/s over the four that send
        #expect((0..<2).map { ClusterShare(nodes: 2, rank: $0).concurrency(5) } == [3, 2])
        #expect(ClusterShare(nodes: 3, rank: 7).rank == 2) // a rank past the end is the last node's
    }

    @Test func aNodeIsAliveUntilItsHeartbeatIsALeaseOld() {
        let beat = Date(timeIntervalSince1970: 1_800_000_000)
        let node = ClusterNode(id: "a", hostname: "h", version: "1", startedAt: beat, heartbeatAt: beat)
        #expect(node.isAlive(now: beat.addingTimeInterval(29), lease: TimeSpan(seconds: 30)))
        #expect(!node.isAlive(now: beat.addingTimeInterval(30), lease: TimeSpan(seconds: 30)))
        #expect(node.heartbeatAge(now: beat.addingTimeInterval(-2)) == 0) // another node's clock a little behind
    }

    @Test func aNodeIDNamesItsHostAndProcessAndIsFreshPerStart() {
        #expect(ClusterNode.makeID(hostname: "mail-1.example", pid: 42, random: 0xbeef) == "mail-1.example-42-beef")
        #expect(ClusterNode.makeID(hostname: "odd host/name", pid: 7, random: 1) == "odd-host-name-7-1")
    }
}
