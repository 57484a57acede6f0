import Foundation
import NurtureCore
import NurtureEngine
import NurtureStore
import Testing

/// Several nodes on one PostgreSQL database, at the store's level: leases on claims, leads, jobs and hand-offs, on a
/// manual clock (the lease is 30 s, each node's heartbeat extends what it holds).
@Suite(.enabled(if: PostgresTestServer.isAvailable, PostgresTestServer.skipReason))
struct PostgresClusterStoreTests {
    let contract = StoreContractTests()
    var now: Date { contract.now }

    func nodes(_ names: String...) async throws -> [PostgresStore] {
        let options = try await PostgresTestServer.freshDatabase()
        var stores: [PostgresStore] = []
        for name in names {
            let store = try await PostgresTestServer.open(options, node: name)
            try await store.join(hostname: name, version: "test", now: now)
            stores.append(store)
        }
        return stores
    }

    func status(_ store: PostgresStore, _ email: String) async throws -> [SendSummary] {
        try #require(try await store.lead(try EmailAddress(validating: email))).sends
    }

    @Test func recoveryTakesOnlySendsWhoseLeaseExpiredNeverALiveNodesOnes() async throws {
        let stores = try await nodes("a", "b")
        let (a, b) = (stores[0], stores[1])
        let d = try await contract.enrolled(a, "ada@example.com")
        #expect(try await a.apply([.claim(outboxID: d.outboxID)], now: now) == [d.outboxID])
        try await a.releaseLeads()
        // B starts 10 s later: its start-up recovery leaves A's claim alone.
        #expect(try await b.recoverInterrupted(now: now.addingTimeInterval(10)) == 0)
        // A's heartbeat at 20 s extends its lease to 50 s: still A's at 40 s.
        _ = try await a.heartbeat(now: now.addingTimeInterval(20))
        #expect(try await b.recoverExpired(now: now.addingTimeInterval(40)) == 0)
        #expect(try await status(a, "ada@example.com").map(\.status) == [.sending])
        // A stops beating: once the lease has run out, B recovers the send, flagged possibly sent.
        #expect(try await b.recoverExpired(now: now.addingTimeInterval(51)) == 1)
        let sends = try await status(b, "ada@example.com")
        #expect(sends.map(\.status) == [.scheduled] && sends.allSatisfy(\.possiblySent))
        for s in stores { await s.close() }
    }

    @Test func aResultFromANodeWhoseSendWasRecoveredIsDropped() async throws {
        let stores = try await nodes("a", "b")
        let (a, b) = (stores[0], stores[1])
        let d = try await contract.enrolled(a, "ada@example.com")
        _ = try await a.apply([.claim(outboxID: d.outboxID)], now: now)
        try await a.releaseLeads()
        // A is cut off for longer than its lease; B recovers the send and claims it again.
        let later = now.addingTimeInterval(60)
        #expect(try await b.recoverExpired(now: later) == 1)
        let again = try await b.dueSends(at: later, limit: 10, recentSince: now)
        #expect(again.map(\.outboxID) == [d.outboxID])
        #expect(try await b.apply([.claim(outboxID: d.outboxID)], now: later) == [d.outboxID])
        // A's late result changes nothing (no next step planned), and A cannot defer or fail B's claim either.
        let next = PlannedSend(stepID: "b", dueAt: later, messageDomain: "example.com")
        _ = try await a.complete([contract.sent(d, next: next)], thenClaim: [], now: later, scoring: contract.scoring)
        _ = try await a.complete([.deferred(outboxID: d.outboxID, retryAt: later, error: "late")], thenClaim: [], now: later,
                                 scoring: contract.scoring)
        #expect(try await status(b, "ada@example.com").map(\.status) == [.sending])
        // B's result counts, once.
        _ = try await b.complete([contract.sent(d, next: next)], thenClaim: [], now: later, scoring: contract.scoring)
        #expect(try await status(b, "ada@example.com").map(\.status) == [.scheduled, .sent]) // newest first: the next step, then a
        for s in stores { await s.close() }
    }

    @Test func twoNodesNeverDecideOneLeadAtOnceAndTheSecondSeesTheFirstsClaim() async throws {
        let stores = try await nodes("a", "b")
        let (a, b) = (stores[0], stores[1])
        let d = try await contract.enrolled(a, "ada@example.com") // A's dueSends leased the lead
        _ = try await contract.enrolled(b, "bob@example.com")
        // While A decides Ada, B is handed only Bob.
        #expect(try await b.dueSends(at: now, limit: 10, recentSince: now.addingTimeInterval(-60)).map(\.lead.email.value) == ["bob@example.com"])
        try await b.releaseLeads()
        _ = try await a.apply([.claim(outboxID: d.outboxID)], now: now)
        try await a.releaseLeads()
        // A's claim is committed before its lease ends: B, deciding Ada's next send, sees it among her recent sends.
        _ = try await a.complete([contract.sent(d, next: PlannedSend(stepID: "b", dueAt: now, messageDomain: "example.com"))], thenClaim: [],
                                 now: now, scoring: contract.scoring)
        let ada = try await b.dueSends(at: now, limit: 10, recentSince: now.addingTimeInterval(-60)).filter { $0.lead.email.value == "ada@example.com" }
        #expect(ada.map(\.stepID) == ["b"] && ada.first?.recentSends == [now])
        // A lease of a node that stopped (not released, not extended) lapses with it.
        #expect(try await a.dueSends(at: now, limit: 10, recentSince: now).isEmpty) // B holds both leads now
        #expect(try await a.dueSends(at: now.addingTimeInterval(31), limit: 10, recentSince: now).count == 2)
        for s in stores { await s.close() }
    }

    @Test func aClusterWideJobIsHeldByOneLiveNodeAtATime() async throws {
        let stores = try await nodes("a", "b")
        let (a, b) = (stores[0], stores[1])
        #expect(try await a.takeJob("intake", now: now))
        #expect(try await !b.takeJob("intake", now: now))
        #expect(try await a.takeJob("intake", now: now)) // its holder renews it
        try await a.releaseJob("intake")
        #expect(try await b.takeJob("intake", now: now))
        // B dies holding it: A takes it once the lease has run out, not before.
        #expect(try await !a.takeJob("intake", now: now.addingTimeInterval(29)))
        #expect(try await a.takeJob("intake", now: now.addingTimeInterval(31)))
        for s in stores { await s.close() }
    }

    @Test func aHandoffIsDeliveredByOneNodeAtATimeAndALapsedClaimIsTakenOver() async throws {
        let stores = try await nodes("a", "b")
        let (a, b) = (stores[0], stores[1])
        let d = try await contract.enrolled(a, "ada@example.com")
        _ = try await a.recordEvent(NewEvent(email: d.lead.email, type: "demo_requested", at: now), scoring: contract.scoring)
        let claimed = try await a.dueHandoffs(at: now, limit: 10)
        #expect(claimed.count == 1)
        #expect(try await b.dueHandoffs(at: now, limit: 10).isEmpty) // A holds it
        // A fails the attempt: the retry is anyone's, at its time.
        try await a.handoffFailed(claimed[0].id, error: "HTTP 500", retryAt: now.addingTimeInterval(60))
        let retried = try await b.dueHandoffs(at: now.addingTimeInterval(60), limit: 10)
        #expect(retried.map(\.attempts) == [1])
        // B dies while delivering: after its lease A takes it over, and B's late failure no longer counts.
        #expect(try await a.dueHandoffs(at: now.addingTimeInterval(80), limit: 10).isEmpty)
        _ = try await b.recoverExpired(now: now.addingTimeInterval(91))
        let takenOver = try await a.dueHandoffs(at: now.addingTimeInterval(91), limit: 10)
        #expect(takenOver.map(\.id) == [claimed[0].id])
        try await b.handoffFailed(claimed[0].id, error: "late", retryAt: now.addingTimeInterval(9_999))
        try await a.handoffDelivered(claimed[0].id, at: now.addingTimeInterval(92))
        #expect(try await b.dueHandoffs(at: now.addingTimeInterval(99_999), limit: 10).isEmpty)
        for s in stores { await s.close() }
    }
}
