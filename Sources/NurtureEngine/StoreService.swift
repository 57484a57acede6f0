import ServiceLifecycle

/// The store as a service: first in the group, so it is shut down last, once every service using it has stopped;
/// then its threads are joined.
public struct StoreService: Service {
    let store: StoreLifecycle

    public init(store: StoreLifecycle) { self.store = store }

    public func run() async throws {
        try? await gracefulShutdown()
        // Cancelled (the drain outlived its bound): the services still stopping may commit what they have, so the
        // store stays open for them until the process ends.
        guard !Task.isCancelled else { return }
        await store.close()
    }
}
