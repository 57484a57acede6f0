import NurtureCore
import NurtureEngine
import NurtureHTTP

/// The protocols SQLite serves, each owned by the module that calls it (see each protocol for its user).
extension SQLiteStore: SchedulerStore, EventStore, ReloadStore, HandoffStore, LeadsAPIStore, JournalStore, TrackingStore,
    StoreLifecycle, UnsubscribeGate {}
