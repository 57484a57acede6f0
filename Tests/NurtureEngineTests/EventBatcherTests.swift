import Foundation
@testable import NurtureHTTP
import NurtureCore
import NurtureStore
import ServiceLifecycle
import Logging
import Synchronization
import Testing

/// The event batcher's group commit, on the real SQLite store: what arrives during a write joins the next one,
/// every hit is answered only after its batch committed, and shutdown writes what was taken.
struct EventBatcherTests {
    /// The real store, with each batched write counted and the first one held until the test lets it go.
    final class HeldStore: TrackingStore, Sendable {
        let real: SQLiteStore
        let batches = Mutex<[Int]>([])
        private let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        private let holding = Mutex(true)
        private let entered = Mutex(false)

        init(_ real: SQLiteStore) { self.real = real }

        func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext) async throws -> [Bool?] {
            batches.withLock { $0.append(hits.count) }
            if holding.withLock({ $0 }) {
                await withCheckedContinuation { c in
                    gate.withLock { $0 = c }
                    entered.withLock { $0 = true }
                }
            }
            return try await real.record(hits, policy: policy, scoring: scoring)
        }

        var isHeld: Bool { entered.withLock { $0 } }

        func release() {
            holding.withLock { $0 = false }
            gate.withLock { c in c?.resume(); c = nil }
        }

        func trackedMessage(_ outboxID: Int64) async throws -> TrackedMessage? { try await real.trackedMessage(outboxID) }
        func recordEngagements(_ items: [TrackedEvent], burstWindow: TimeInterval, scoring: ScoringContext) async throws -> [Bool] {
            try await real.recordEngagements(items, burstWindow: burstWindow, scoring: scoring)
        }
        func unsubscribe(outboxID: Int64, at: Date, via: String, scoring: ScoringContext) async throws -> UnsubscribeResult {
            try await real.unsubscribe(outboxID: outboxID, at: at, via: via, scoring: scoring)
        }
        func recordChoice(_ choice: RecipientChoice, outboxID: Int64, at: Date, scoring: ScoringContext) async throws -> RecipientChoiceResult {
            try await real.recordChoice(choice, outboxID: outboxID, at: at, scoring: scoring)
        }
        func isReachable() async -> Bool { await real.isReachable() }
        func outboxDepth() async throws -> [String: Int] { try await real.outboxDepth() }
    }

    /// A harness that has sent one message to ada@example.com, and a batcher over its store.
    static func sent() async throws -> (EngineHarness, HeldStore, EventBatcher, Int64) {
        let h = try EngineHarness(sequences: ["a.yaml": StatsTests.sequence])
        try await h.addLead("ada@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        let outboxID = try #require(h.transport.sent.first?.outboxID)
        let held = HeldStore(h.store)
        let scoring = h.holder.current.scoringContext
        let batcher = EventBatcher(store: held, site: {
            TrackingServer.Site(senderName: "t", defaultLocale: "en", policy: .init(), scoring: scoring)
        })
        return (h, held, batcher, outboxID)
    }

    static func until(_ condition: () -> Bool) async {
        for _ in 0..<100_000 where !condition() { await Task.yield() }
    }

    static let person = "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15"

    @Test func hitsArrivingDuringAWriteJoinTheNextBatchAndEachIsAnsweredOnceCommitted() async throws {
        let (h, held, batcher, outboxID) = try await Self.sent()
        let t = at("2026-11-23T10:00:00Z")
        let running = Task { await batcher.run() }
        let first = Task { try await batcher.record(.open(outboxID: outboxID, at: t, userAgent: Self.person, head: false)) }
        await Self.until { held.isHeld }
        let later = (1...5).map { i in
            Task { try await batcher.record(.open(outboxID: outboxID, at: t.addingTimeInterval(Double(i)), userAgent: Self.person, head: false)) }
        }
        await Self.until { batcher.pendingCount == 5 }
        let during = try await h.store.lead(try EmailAddress(validating: "ada@example.com"))
        #expect(during?.events.contains { $0.type == "open" } == false, "nothing is committed while the write is held")
        held.release()
        #expect(try await first.value == false)
        for hit in later { #expect(try await hit.value == false) }
        #expect(held.batches.withLock { $0 } == [1, 5])
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.events.filter { $0.type == "open" }.count == 6)
        #expect(lead.ledger.filter { $0.cause.contains("open") }.count == 1, "a replayed pixel scores once")
        running.cancel()
        await running.value
    }

    @Test func anOpenOfAMessageThatDoesNotExistRecordsNothing() async throws {
        let (h, held, batcher, outboxID) = try await Self.sent()
        held.release()
        let running = Task { await batcher.run() }
        let t = at("2026-11-23T10:00:00Z")
        #expect(try await batcher.record(.open(outboxID: outboxID + 1_000, at: t, userAgent: Self.person, head: false)) == nil)
        #expect(try await batcher.record(.open(outboxID: outboxID, at: t, userAgent: nil, head: true)) == true, "a HEAD without agent is a machine's")
        let events = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com"))).events.filter { $0.type == "open" }
        #expect(events.count == 1 && events[0].machine)
        running.cancel()
        await running.value
    }

    @Test func gracefulShutdownWritesEveryHitTakenThenRefusesNewOnes() async throws {
        let (h, held, batcher, outboxID) = try await Self.sent()
        let group = ServiceGroup(services: [batcher], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        let t = at("2026-11-23T10:00:00Z")
        let first = Task { try await batcher.record(.open(outboxID: outboxID, at: t, userAgent: Self.person, head: false)) }
        await Self.until { held.isHeld }
        let second = Task { try await batcher.record(.open(outboxID: outboxID, at: t.addingTimeInterval(1), userAgent: Self.person, head: false)) }
        await Self.until { batcher.pendingCount == 1 }
        await group.triggerGracefulShutdown()
        held.release()
        #expect(try await first.value == false)
        #expect(try await second.value == false)
        try await running.value
        await #expect(throws: EventBatcher.Stopped.self) {
            try await batcher.record(.open(outboxID: outboxID, at: t.addingTimeInterval(2), userAgent: Self.person, head: false))
        }
        let lead = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(lead.events.filter { $0.type == "open" }.count == 2)
    }
}
