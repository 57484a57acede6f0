import Foundation
import NurtureCore
import ServiceLifecycle
import Synchronization

/// Group commit for opens and clicks: hits arriving while a transaction is being written join the next one, and
/// each request is answered only once its event is committed (one fsync per batch instead of per request).
/// The commit loop runs on the store's writer thread: a committed batch hands its answers out and the next batch
/// starts from there, with no hop through Swift's cooperative pool between two commits (two thread wake-ups per
/// batch were most of the time between commits under wrk).
/// A service of the daemon's group, after the store and before the HTTP server: it stops taking hits once shutdown
/// begins, and writes every hit it took before its `run` returns.
public final class EventBatcher: Service, Sendable {
    /// Thrown to a hit that arrives once the batcher has stopped: it is not recorded.
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the event batcher has stopped" }
    }

    /// Called once a hit is committed (its final machine flag, nil when its message does not exist) or failed.
    public typealias Completion = @Sendable (Result<Bool?, any Error>) -> Void

    private struct State {
        var pending: [(TrackedHit, Completion)] = []
        var stopped = false
        /// A batch is with the store (or waiting to retry a busy writer); the next starts when it is done.
        var writing = false
        /// Once `run` is cancelled a busy writer fails the batch instead of being retried.
        var cancelled = false
        /// `run`, stopped, waiting for the last batch.
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    private let store: TrackingStore
    private let site: @Sendable () -> TrackingServer.Site
    private let state = Mutex(State())

    init(store: TrackingStore, site: @escaping @Sendable () -> TrackingServer.Site) {
        self.store = store
        self.site = site
    }

    /// Records the hit durably; returns its final machine flag, or nil when its message does not exist.
    public func record(_ hit: TrackedHit) async throws -> Bool? {
        try await withCheckedThrowingContinuation { continuation in
            submit(hit) { continuation.resume(with: $0) }
        }
    }

    /// `record` without a task: the open pixel's event-loop path hands its hit over and answers from `completion`,
    /// which runs on the store's writer thread once the batch is committed (or at once, with `Stopped`, once the
    /// batcher has stopped).
    public func submit(_ hit: TrackedHit, completion: @escaping Completion) {
        let start = state.withLock { s -> Bool? in
            guard !s.stopped else { return nil }
            s.pending.append((hit, completion))
            defer { s.writing = true }
            return !s.writing
        }
        guard let start else { return completion(.failure(Stopped())) }
        if start { writeNext() }
    }

    /// Until graceful shutdown (or cancellation); then stops taking hits and returns once every hit taken is written.
    public func run() async {
        await withTaskCancellationHandler {
            try? await gracefulShutdown()
        } onCancel: {
            state.withLock { $0.cancelled = true }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s in
                s.stopped = true
                if s.writing { s.drained.append(continuation) }
                return !s.writing
            }
            if idle { continuation.resume() }
        }
    }

    /// Hands everything pending to the store as one transaction; from its completion, the next batch.
    private func writeNext() {
        let (batch, drained) = state.withLock { s -> ([(TrackedHit, Completion)], [CheckedContinuation<Void, Never>]) in
            if s.pending.isEmpty {
                s.writing = false
                defer { s.drained = [] }
                return ([], s.drained)
            }
            defer { s.pending = [] }
            return (s.pending, [])
        }
        if batch.isEmpty { return drained.forEach { $0.resume() } }
        let settings = site()
        store.record(batch.map(\.0), policy: settings.policy, scoring: settings.scoring) { [self] result in
            switch result {
            case .success(let flags):
                for (item, flag) in zip(batch, flags) { item.1(.success(flag)) }
            case .failure(StoreFailure.busy(_)) where !state.withLock({ $0.cancelled }):
                // Another process holds the writer: the hits wait (their requests with them) and go in the next
                // attempt, so an open is answered only once it is stored, never dropped while the lock is held.
                state.withLock { $0.pending = batch + $0.pending }
                Task {
                    try? await Task.sleep(for: .milliseconds(20))
                    writeNext()
                }
                return
            case .failure(let error):
                for item in batch { item.1(.failure(error)) }
            }
            writeNext()
        }
    }

    /// Hits taken and not yet handed to the store (tests wait on it).
    var pendingCount: Int { state.withLock { $0.pending.count } }
}
