import Foundation
import NurtureCore
import NurtureEngine
import NurtureStore
import Testing

extension UnsubscribeDispatchTests {
    @Test func anUnsubscribeWhileTheFirstGroupsRenderKeepsThemFromGoingOut() async throws {
        let box = StoreBox()
        var settings = Scheduler.Settings()
        // After the dispatch decisions, while the first group is rendered and before it can be claimed.
        settings.afterRendering = { _ in
            guard let store = box.store, let id = try? await store.lead(try EmailAddress(validating: "ada@example.com"))?.sends.first?.outboxID else { return }
            _ = try? await store.unsubscribe(outboxID: id, at: Date(), via: "test", scoring: ScoringContext(rules: ScoringRules(), handoffChannels: []))
        }
        let h = try EngineHarness(sequences: ["a.yaml": Self.twoSteps], settings: settings)
        let capture = h.transport
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
