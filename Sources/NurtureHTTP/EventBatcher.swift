import NurtureCore

/// Group commit for opens and clicks: requests arriving while a transaction is being written join the next one,
/// and each request is answered only once its event is committed. One fsync per batch instead of per request.
actor EventBatcher {
    private let store: TrackingStore
    private let site: @Sendable () -> TrackingServer.Site
    private var pending: [(TrackedEvent, CheckedContinuation<Bool, any Error>)] = []
    private var writing = false

    init(store: TrackingStore, site: @escaping @Sendable () -> TrackingServer.Site) {
        self.store = store
        self.site = site
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
                let settings = site()
                let flags = try await store.recordEngagements(batch.map(\.0), burstWindow: settings.policy.burstWindow, scoring: settings.scoring)
                for (item, flag) in zip(batch, flags) { item.1.resume(returning: flag) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
        writing = false
    }
}
