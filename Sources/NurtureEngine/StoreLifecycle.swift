import NurtureHTTP
import NurtureCore

/// A store the daemon opens once: it owns threads (and, for SQLite, the database's lock) until it is closed.
public protocol StoreLifecycle: Sendable {
    /// Lets queued work finish, then joins the store's threads; later calls fail with `StoreFailure.closed`.
    func close() async
}

/// Everything `nurture serve` hands one store: the union of its consumers' protocols, no more.
public typealias DaemonStore = SchedulerStore & EventStore & ReloadStore & HandoffStore & LeadsAPIStore & JournalStore & InboundStore
    & TrackingStore & StoreLifecycle & ClusterStore
