import Foundation
import Testing
import NurtureCore

/// Each live node of a cluster applies its share of the limits, so their sum is what the operator configured.
struct ClusterShareTests {
    let throttle = ThrottlePolicy(minGap: .hours(1), maxCount: 3, maxWindow: .days(7), globalRate: 60, domainRate: 9, domainConcurrency: 4)

    @Test func threeNodesEachTakeAThirdOfTheRatesAndConcurrencyButFatigueStaysWhole() {
        let t = ClusterShare(nodes: 3).apply(to: throttle)
        #expect(t.globalRate == 20 && t.domainRate == 3)
        #expect(t.domainConcurrency == 1)
        #expect(t.minGap == throttle.minGap && t.maxCount == throttle.maxCount && t.maxWindow == throttle.maxWindow)
    }

    @Test func aNodeAloneKeepsTheLimitsAsConfigured() {
        #expect(ClusterShare.alone.apply(to: throttle) == throttle)
        #expect(ClusterShare(nodes: 0).nodes == 1) // before the first heartbeat answered: alone
    }

    @Test func moreNodesThanConnectionsStillKeepOneConnectionEach() {
        #expect(ClusterShare(nodes: 5).concurrency(4) == 1)
        #expect(ClusterShare(nodes: 2).concurrency(5) == 2)
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
