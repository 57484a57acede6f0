import Dispatch
import Foundation
import NurtureCore
import NurtureStore
import Testing

/// An unsubscribe ends everything queued for the address: nothing scheduled later, and nothing already picked
/// for the current batch but not yet claimed, goes out.
struct UnsubscribeDispatchTests {
    static let twoSteps = """
        id: seq
        persona: p
        steps:
          - { id: one, after: 0m, template: step }
          - { id: two, after: 3d, template: step }
        """

    @Test func aQueuedStepNeverGoesOutAfterUnsubscribe() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.twoSteps])
        try await h.addLead("ada@example.com", persona: "p")
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        let first = try #require(h.transport.sent.first)
        let scoring = h.holder.current.scoringContext
        #expect(try await h.store.unsubscribe(outboxID: first.outboxID, at: h.clock.now(), via: "test", scoring: scoring) == .unsubscribed)
        #expect(try await h.store.unsubscribe(outboxID: first.outboxID, at: h.clock.now(), via: "test", scoring: scoring) == .alreadyUnsubscribed)
        _ = try await h.run(until: at("2027-01-31T00:00:00Z"))
        #expect(h.transport.sent.count == 1)
        let shown = try #require(try await h.store.lead(try EmailAddress(validating: "ada@example.com")))
        #expect(shown.sends.first { $0.stepID == "two" }?.status == .cancelled)
    }

    @Test func aSendPickedForTheBatchButNotYetClaimedIsDropped() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.twoSteps])
        for name in ["a", "b", "c"] { try await h.addLead("\(name)@example.com", persona: "p") }
        // One tick enrolls all three and picks their first steps as one batch, sent one group (of one) at a time.
        // While a's message is on the wire, c unsubscribes: its step was picked for the batch but is not claimed yet.
        let store = h.store, clock = h.clock, scoring = h.holder.current.scoringContext
        h.transport.beforeSending { message in
            guard message.recipient.value == "a@example.com" else { return }
            let done = DispatchSemaphore(value: 0)
            Task {
                if let c = try? await store.lead(try EmailAddress(validating: "c@example.com"))?.sends.first?.outboxID {
                    _ = try? await store.unsubscribe(outboxID: c, at: clock.now(), via: "test", scoring: scoring)
                }
                done.signal()
            }
            done.wait()
        }
        _ = try await h.run(until: at("2026-11-23T09:00:00Z"))
        #expect(h.transport.sent.map(\.recipient.value).sorted() == ["a@example.com", "b@example.com"])
        let c = try #require(try await h.store.lead(try EmailAddress(validating: "c@example.com")))
        #expect(c.sends.allSatisfy { $0.status == .cancelled })
    }
}
