import Foundation
import NurtureCore
import NurtureMail
import NurtureStore
import Testing

/// A transport that runs `before` when a batch is handed to it — after the dispatch decisions, while the batch's
/// groups are still rendering — then delivers through the capturing transport.
final class ActingTransport: Transport {
    let inner: CapturingTransport
    let before: @Sendable () async -> Void
    var concurrency: Int { inner.concurrency }

    init(_ inner: CapturingTransport, before: @escaping @Sendable () async -> Void) {
        self.inner = inner
        self.before = before
    }

    func run(groups count: Int, perDomain: Int, prepare: @escaping @Sendable (Int) -> [OutgoingMessage],
             finish: @escaping @Sendable (Int, [DeliveryResult]) -> Void) async {
        await before()
        await inner.run(groups: count, perDomain: perDomain, prepare: prepare, finish: finish)
    }
}

extension UnsubscribeDispatchTests {
    @Test func anUnsubscribeWhileTheFirstGroupsRenderKeepsThemFromGoingOut() async throws {
        let capture = CapturingTransport()
        let box = StoreBox()
        let acting = ActingTransport(capture) {
            guard let store = box.store, let id = try? await store.lead(try EmailAddress(validating: "ada@example.com"))?.sends.first?.outboxID else { return }
            _ = try? await store.unsubscribe(outboxID: id, at: Date(), via: "test", scoring: ScoringContext(rules: ScoringRules(), handoffChannels: []))
        }
        let h = try EngineHarness(sequences: ["a.yaml": Self.twoSteps], delivery: acting)
        box.store = h.store
        try await h.addLead("ada@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        #expect(capture.sent.isEmpty, "\(capture.sent.map(\.recipient.value))")
        let ada = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(ada.sends.allSatisfy { $0.status == .cancelled }, "\(ada.sends.map(\.status))")
    }
}

/// The harness's store, known only once the harness (which takes the transport) exists.
final class StoreBox: @unchecked Sendable {
    var store: SQLiteStore?
}
