import Foundation
import NurtureCore

/// What the HTTP side (TrackingServer, EventBatcher) needs from storage, owned here by its user: the sent message a token names, engagement events, unsubscribes.
/// Async because the HTTP server must never block Swift's cooperative threads on SQLite.
public protocol TrackingStore: Sendable {
    /// The message an outbox id names, if it exists and was (or is being) sent.
    func trackedMessage(_ outboxID: Int64) async throws -> TrackedMessage?
    /// Records opens and clicks in one transaction (group commit). A click that completes a burst on every link
    /// of its message within `burstWindow` flags the burst's clicks as machine ones. Returns each item's final
    /// machine flag.
    func recordEngagements(_ items: [TrackedEvent], burstWindow: TimeInterval, scoring: ScoringContext) async throws -> [Bool]
    /// Records opens and clicks in one transaction (group commit), in order. An open names its message by outbox id
    /// and the message is resolved inside the write, so a pixel costs no read of its own; an open of a message that
    /// does not exist, or was never sent, records nothing and yields nil. Otherwise each item's final machine flag:
    /// `MachineSignals.open` judges an open against its message's send time, bursts are judged as for
    /// `recordEngagements` within `policy.burstWindow`.
    func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext) async throws -> [Bool?]
    /// `record` for the batcher's commit loop, which runs outside Swift concurrency: `completion` runs once the
    /// transaction is committed or failed, on the store's writer thread, where the loop starts its next batch.
    func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext,
                completion: @escaping @Sendable (Result<[Bool?], any Error>) -> Void)
    /// Suppresses the message's address for every sequence, ends its enrollments and cancels its queued sends,
    /// committed durably before returning. Idempotent.
    func unsubscribe(outboxID: Int64, at: Date, via: String, scoring: ScoringContext) async throws -> UnsubscribeResult
    /// The unsubscribe page's other choices: leave only the message's sequence (its enrollment ends, never to
    /// re-enter), or pause nurture mail (due steps wait). Recorded as an event (consent history) and scored,
    /// committed durably before returning; pressing the same choice again changes nothing.
    func recordChoice(_ choice: RecipientChoice, outboxID: Int64, at: Date, scoring: ScoringContext) async throws -> RecipientChoiceResult
    /// The database answers a query.
    func isReachable() async -> Bool
    /// Outbox rows by status, for metrics.
    func outboxDepth() async throws -> [String: Int]
}

extension TrackingStore {
    /// A store without a writer thread of its own answers through its async `record`.
    public func record(_ hits: [TrackedHit], policy: MachineSignals.Policy, scoring: ScoringContext,
                       completion: @escaping @Sendable (Result<[Bool?], any Error>) -> Void) {
        Task {
            do {
                completion(.success(try await record(hits, policy: policy, scoring: scoring)))
            } catch {
                completion(.failure(error))
            }
        }
    }
}
