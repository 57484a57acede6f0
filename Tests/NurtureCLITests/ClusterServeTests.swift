import Foundation
import Testing

/// Several `nurture serve` on one PostgreSQL database (issue #15): real processes, a real SMTP server, SIGKILL.
/// Every send goes out exactly once (or, after a kill, at most again when recorded possibly sent), and the
/// cluster keeps the limits one node would.
@Suite(.serialized, .enabled(if: TestPostgres.url != nil,
                             "NURTURE_TEST_POSTGRES_URL is unset: cluster tests skipped (scripts/pg-test-server.sh start)"))
struct ClusterServeTests {
    /// Limits out of the way: only delivery and the claims are under test.
    static let open = "{ min_gap: 1s, max: 100 per 1d, rate: 5000/s, domain_rate: 5000/s, domain_concurrency: 6, sunset_after: 100, stale_after: 30d }"

    /// Received copies per Message-ID.
    static func copies(_ h: ClusterHarness) -> [String: Int] {
        var copies: [String: Int] = [:]
        for r in h.received() { copies[r.messageID, default: 0] += 1 }
        return copies
    }

    static func stopAll(_ nodes: [RunningNurture]) -> [Int32] {
        for n in nodes { n.kill(SIGTERM) }
        return nodes.map { $0.wait(timeout: 40) }
    }

    @Test func threeNodesDeliverEverySendOfThreeThousandLeadsExactlyOnce() throws {
        let leads = 3_000, steps = 3
        let h = try ClusterHarness.make(nodes: 3, leads: leads, steps: ["0m", "1s", "1s"], throttle: Self.open)
        defer { h.stop() }
        let started = Date()
        let nodes = try (0..<3).map { try h.start(node: $0) }
        let finished = BoundedPoll.until(timeout: 300) { h.finished(expected: leads * steps) }
        let took = Date().timeIntervalSince(started)
        #expect(finished, "outbox \(h.statusCounts()); \(nodes.map { $0.stderr().suffix(400) })")
        _ = BoundedPoll.until(timeout: 10) { h.received().count >= leads * steps }
        let copies = Self.copies(h)
        let sent = Set(try h.query("SELECT message_id FROM outbox WHERE status = 'sent'").map { $0[0] })
        print("cluster: 3 nodes, \(leads) leads × \(steps) steps: \(h.received().count) received, \(copies.count) distinct, in \(String(format: "%.1f", took)) s")
        #expect(sent.count == leads * steps)
        #expect(Set(copies.keys) == sent)
        #expect(copies.values.allSatisfy { $0 == 1 }, "\(copies.filter { $0.value > 1 }.count) received more than once")
        #expect(try h.query("SELECT count(*) FROM outbox WHERE possibly_sent").first?.first == "0")
        // Every node took part.
        let byNode = try h.query("SELECT claimed_by, count(*) FROM outbox WHERE status = 'sent' GROUP BY claimed_by")
        print("cluster: sends per node: \(byNode.map { $0.joined(separator: " = ") })")
        #expect(byNode.count == 3)
        #expect(Self.stopAll(nodes) == [0, 0, 0], "\(nodes.map { $0.stderr().suffix(400) })")
        // A clean stop leaves the cluster: no node registered, nothing leased.
        #expect(try h.query("SELECT count(*) FROM node").first?.first == "0")
        #expect(try h.query("SELECT (SELECT count(*) FROM lead_lease) + (SELECT count(*) FROM job_lease)").first?.first == "0")
    }

    @Test func nodesKilledAtRandomAndRestartedLoseNothingAndEveryDuplicateIsRecordedPossiblySent() throws {
        let leads = 3_000, steps = 3
        let h = try ClusterHarness.make(nodes: 3, leads: leads, steps: ["0m", "1s", "1s"], throttle: Self.open, lease: "3s", smtpDelay: 0.03)
        defer { h.stop() }
        var nodes = try (0..<3).map { try h.start(node: $0) }
        var random = SeededRandom(seed: 20261201)
        var kills = 0
        let started = Date()
        // Kills while mail goes out (enrollment of the 3 000 leads comes first).
        #expect(BoundedPoll.until(timeout: 60) { !h.received().isEmpty })
        while kills < 8 && !h.finished(expected: leads * steps) {
            _ = BoundedPoll.until(timeout: 30) { nodes.allSatisfy { $0.stderr().contains("HTTP listening") } }
            BoundedPoll.wait(seconds: Double(random.next() % 1_000 + 200) / 1_000) // 0.2–1.2 s of work
            // The node with sends in flight, if one has (its id holds its pid), else any: the kill that can duplicate.
            let holder = try h.query("SELECT claimed_by FROM outbox WHERE status = 'sending' LIMIT 1").first?.first
            let i = nodes.firstIndex { holder?.contains("-\($0.pid)-") == true } ?? Int(random.next() % 3)
            nodes[i].kill(SIGKILL)
            _ = nodes[i].wait(timeout: 10)
            kills += 1
            nodes[i] = try h.start(node: i) // a new node id: its old claims are recovered by whoever sees their lease expire
        }
        let finished = BoundedPoll.until(timeout: 240) { h.finished(expected: leads * steps) }
        let took = Date().timeIntervalSince(started)
        #expect(finished, "outbox \(h.statusCounts())")
        _ = BoundedPoll.until(timeout: 10) { Set(h.received().map(\.messageID)).count >= leads * steps }
        let copies = Self.copies(h)
        let sent = Set(try h.query("SELECT message_id FROM outbox WHERE status = 'sent'").map { $0[0] })
        let possibly = Set(try h.query("SELECT message_id FROM outbox WHERE possibly_sent").map { $0[0] })
        let lost = sent.filter { (copies[$0] ?? 0) == 0 }
        let duplicated = copies.filter { $0.value > 1 }
        print("cluster chaos: \(kills) kills (SIGKILL, then restart), \(lost.count) lost, \(duplicated.count) received twice or more "
              + "(\(duplicated.keys.filter { possibly.contains($0) }.count) of them recorded possibly sent), \(possibly.count) recorded possibly sent, "
              + "\(h.received().count) received for \(sent.count) sends, in \(String(format: "%.1f", took)) s")
        #expect(kills > 0)
        #expect(!possibly.isEmpty) // the kills did catch transfers in flight
        #expect(sent.count == leads * steps)
        #expect(lost.isEmpty)
        #expect(Set(copies.keys) == sent)
        #expect(duplicated.keys.allSatisfy { possibly.contains($0) }, "duplicates not recorded possibly sent: \(duplicated.keys.filter { !possibly.contains($0) })")
        #expect(Self.stopAll(nodes) == [0, 0, 0])
    }

    @Test func theGlobalRateAndAPerLeadMinGapHoldAcrossThreeNodes() throws {
        let leads = 240, steps = 3, rate = 60.0, gap = 1.0
        let h = try ClusterHarness.make(nodes: 3, leads: 0, steps: ["0m", "0m", "0m"],
                                        throttle: "{ min_gap: 1s, max: 100 per 1d, rate: 60/s, domain_rate: 5000/s, domain_concurrency: 6, sunset_after: 100, stale_after: 30d }")
        defer { h.stop() }
        let nodes = try (0..<3).map { try h.start(node: $0) }
        // Every node counts three live nodes (its share is a third) before there is anything to send.
        let all = BoundedPoll.until(timeout: 30) {
            h.ports.allSatisfy { port in ((try? HTTPProbe(port: port).get("/metrics").text) ?? "").contains("\nnurture_cluster_nodes 3\n") }
        }
        #expect(all, "\(h.ports.map { ((try? HTTPProbe(port: $0).get("/metrics").text) ?? "").split(separator: "\n").filter { $0.hasPrefix("nurture_cluster") } })")
        try h.importLeads(leads)
        #expect(BoundedPoll.until(timeout: 120) { h.finished(expected: leads * steps) }, "outbox \(h.statusCounts())")
        _ = BoundedPoll.until(timeout: 10) { h.received().count >= leads * steps }
        let times = h.received().map(\.at).sorted()
        try #require(times.count == leads * steps)
        let overall = Double(times.count - 1) / (times.last! - times.first!)
        // The busiest 3-second window (a node's burst is a tenth of a second of its share).
        var busiest = 0.0, j = 0
        for i in times.indices {
            while times[i] - times[j] > 3 { j += 1 }
            busiest = max(busiest, Double(i - j + 1) / 3)
        }
        // Per lead (its enrollment, the Message-ID's first part): the gap between its sends.
        var byLead: [String: [Double]] = [:]
        for r in h.received() { byLead[String(r.messageID.dropFirst().prefix { $0 != "." }), default: []].append(r.at) }
        let gaps = byLead.values.flatMap { t in zip(t.sorted(), t.sorted().dropFirst()).map { $1 - $0 } }
        let spread = try h.query("SELECT count(*) FROM (SELECT lead_id FROM outbox GROUP BY lead_id HAVING count(DISTINCT claimed_by) > 1) s")
        print(String(format: "cluster rate: limit %.0f/s, measured %.1f/s overall, %.1f/s in the busiest 3 s; min_gap %.1f s, smallest gap %.3f s; ", rate,
                     overall, busiest, gap, gaps.min() ?? 0) + "\(spread.first?.first ?? "?") of \(leads) leads served by more than one node")
        // Never above the limit by more than 10 %; with a backlog, not far under it either (the start and the tail of the
        // backlog, when fewer leads are due than the rate could serve, bring the overall figure down; three debug
        // builds sharing two cores with the rest of the suite lose tokens while their ticks wait for a core: 0.80 of
        // the limit was measured under the whole suite, 0.98 alone, hence 0.7).
        #expect(overall <= rate * 1.1)
        #expect(busiest <= rate * 1.1 && busiest >= rate * 0.7)
        #expect((gaps.min() ?? 0) >= gap - 0.01)
        #expect(Self.stopAll(nodes) == [0, 0, 0])
    }

    @Test func withMoreNodesThanConnectionsPerDomainOnlyAsManyNodesDeliverAndEverySendGoesOutOnce() throws {
        let leads = 300
        let h = try ClusterHarness.make(nodes: 3, leads: 0, steps: ["0m"],
                                        throttle: "{ min_gap: 1s, max: 100 per 1d, rate: 5000/s, domain_rate: 5000/s, domain_concurrency: 2, sunset_after: 100, stale_after: 30d }")
        defer { h.stop() }
        let nodes = try (0..<3).map { try h.start(node: $0) }
        // Every node counts three live nodes before there is anything to send.
        #expect(BoundedPoll.until(timeout: 30) {
            h.ports.allSatisfy { port in ((try? HTTPProbe(port: port).get("/metrics").text) ?? "").contains("\nnurture_cluster_nodes 3\n") }
        })
        try h.importLeads(leads)
        #expect(BoundedPoll.until(timeout: 120) { h.finished(expected: leads) }, "outbox \(h.statusCounts())")
        _ = BoundedPoll.until(timeout: 10) { h.received().count >= leads }
        let byNode = try h.query("SELECT claimed_by, count(*) FROM outbox WHERE status = 'sent' GROUP BY claimed_by ORDER BY claimed_by")
        print("cluster, domain_concurrency 2 on 3 nodes: sends per node: \(byNode.map { $0.joined(separator: " = ") })")
        // Two connections for the cluster: the first two nodes by id hold them, the third sends nothing.
        let ids = try h.query("SELECT id FROM node ORDER BY id").map { $0[0] }
        #expect(ids.count == 3 && Set(byNode.map { $0[0] }).isSubset(of: Set(ids.prefix(2))), "\(byNode) of \(ids)")
        #expect(Set(h.received().map(\.messageID)).count == leads && h.received().count == leads)
        #expect(Self.stopAll(nodes) == [0, 0, 0])
    }

    @Test func twoNodesStartingAtTheSameMomentOnAnEmptyDatabaseMigrateItOnceAndBothRun() throws {
        let h = try ClusterHarness.make(nodes: 2, leads: 0, steps: ["0m"], throttle: Self.open)
        defer { h.stop() }
        let nodes = try (0..<2).map { try h.start(node: $0) }
        #expect(BoundedPoll.until(timeout: 30) { nodes.allSatisfy { $0.stderr().contains("HTTP listening") } }, "\(nodes.map { $0.stderr() })")
        #expect(try h.query("SELECT version FROM schema_migration ORDER BY version").map { $0[0] } == ["1", "2", "3", "4", "5", "6", "7"])
        #expect(try h.query("SELECT count(*) FROM node").first?.first == "2")
        // Each node's /metrics names both, with their heartbeat age.
        #expect(BoundedPoll.until(timeout: 10) {
            h.ports.allSatisfy { port in
                let text = (try? HTTPProbe(port: port).get("/metrics").text) ?? ""
                return text.contains("\nnurture_cluster_nodes 2\n")
                    && text.components(separatedBy: "\nnurture_cluster_node_heartbeat_age_seconds{node=\"").count == 3
            }
        })
        try h.importLeads(50)
        #expect(BoundedPoll.until(timeout: 60) { h.finished(expected: 50) }, "outbox \(h.statusCounts())")
        _ = BoundedPoll.until(timeout: 10) { h.received().count >= 50 }
        #expect(Set(h.received().map(\.messageID)).count == 50 && h.received().count == 50)
        // `nurture stats` lists both nodes.
        let stats = try h.project.run(["stats"])
        #expect(stats.stdout.contains("nodes: 2 live of 2 registered"), "\(stats.stdout)")
        #expect(Self.stopAll(nodes) == [0, 0])
    }
}
