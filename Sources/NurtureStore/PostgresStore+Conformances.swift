import NurtureCore
import NurtureEngine
import NurtureHTTP

/// The same protocols SQLite serves (SQLiteStore+Conformances.swift), so the daemon and every command take either.
extension PostgresStore: SchedulerStore, EventStore, ReloadStore, HandoffStore, LeadsAPIStore, JournalStore, TrackingStore,
    StoreLifecycle, UnsubscribeGate {}
