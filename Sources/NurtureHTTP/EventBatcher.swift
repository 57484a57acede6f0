import NurtureCore

/// Group commit for opens and clicks: requests arriving while a transaction is being written join the next one,
/// and each request is answered only once its event is committed. One fsync per batch instead of per request.
actor EventBatcher {
    private let store: TrackingStore
    private let burstWindow: @Sendable () -> Double
    private var pending: [(TrackedEvent, CheckedContinuation<Bool, any Error>)] = []
    private var writing = false

    init(store: TrackingStore, burstWindow: @escaping @Sendable () -> Double) {
        self.store = store
        self.burstWindow = burstWindow
    }

    /// Records the engagement durably; returns its final machine flag.
    func record(_ engagement: TrackedEvent) async throws -> Bool {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((engagement, continuation))
            if !writing {
                writing = true
                Task { await drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                let flags = try await store.recordEngagements(batch.map(\.0), burstWindow: burstWindow())
                for (item, flag) in zip(batch, flags) { item.1.resume(returning: flag) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
        writing = false
    }
}
