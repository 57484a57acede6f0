import Foundation
import NurtureCore
import ServiceLifecycle
import Synchronization

/// Group commit for opens and clicks: hits arriving while a transaction is being written join the next one, and
/// each request is answered only once its event is committed (one fsync per batch instead of per request).
/// A service of the daemon's group, after the store and before the HTTP server: it stops taking hits once shutdown
/// begins, and writes every hit it took before its `run` returns.
public final class EventBatcher: Service, Sendable {
    /// Thrown to a hit that arrives once the batcher has stopped: it is not recorded.
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the event batcher has stopped" }
    }

    private struct State {
        var pending: [(TrackedHit, CheckedContinuation<Bool?, any Error>)] = []
        var stopped = false
    }

    private let store: TrackingStore
    private let site: @Sendable () -> TrackingServer.Site
    private let state = Mutex(State())
    private let wake: AsyncStream<Void>
    private let wakeUp: AsyncStream<Void>.Continuation

    init(store: TrackingStore, site: @escaping @Sendable () -> TrackingServer.Site) {
        self.store = store
        self.site = site
        (wake, wakeUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Records the hit durably; returns its final machine flag, or nil when its message does not exist.
    public func record(_ hit: TrackedHit) async throws -> Bool? {
        try await withCheckedThrowingContinuation { continuation in
            let taken = state.withLock { s in
                guard !s.stopped else { return false }
                s.pending.append((hit, continuation))
                return true
            }
            guard taken else { return continuation.resume(throwing: Stopped()) }
            wakeUp.yield()
        }
    }

    /// Writes batches until graceful shutdown (or cancellation), then writes what is left and stops taking hits.
    public func run() async {
        await withGracefulShutdownHandler {
            for await _ in wake { await drain() }
        } onGracefulShutdown: { [wakeUp] in
            wakeUp.finish()
        }
        state.withLock { $0.stopped = true }
        await drain()
    }

    /// Writes everything pending, in batches of what arrived while the previous one was written.
    private func drain() async {
        while true {
            let batch = state.withLock { s in
                defer { s.pending = [] }
                return s.pending
            }
            if batch.isEmpty { return }
            do {
                let settings = site()
                let flags = try await store.record(batch.map(\.0), policy: settings.policy, scoring: settings.scoring)
                for (item, flag) in zip(batch, flags) { item.1.resume(returning: flag) }
            } catch StoreFailure.busy(_) where !Task.isCancelled {
                // Another process holds the writer: the hits wait (their requests with them) and go in the next
                // attempt, so an open is answered only once it is stored, never dropped while the lock is held.
                state.withLock { $0.pending = batch + $0.pending }
                try? await Task.sleep(for: .milliseconds(20))
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
    }

    /// Hits taken and not yet handed to the store (tests wait on it).
    var pendingCount: Int { state.withLock { $0.pending.count } }
}
