import Logging
import NurtureCore
import NurtureStore
import ServiceLifecycle

/// Moves one-click unsubscribes from the journal into the database as soon as the writer is free (another
/// process may hold it for a while); until then the scheduler already treats their leads as unsubscribed.
public struct UnsubscribeJournalService: Service {
    let store: SQLiteStore
    let scoring: @Sendable () -> ScoringContext
    let logger: Logger

    public init(store: SQLiteStore, scoring: @escaping @Sendable () -> ScoringContext, logger: Logger) {
        self.store = store
        self.scoring = scoring
        self.logger = logger
    }

    /// Before anything is sent: what an earlier run journaled but did not apply.
    public static func applyAtStart(_ store: SQLiteStore, scoring: ScoringContext, logger: Logger) {
        guard !store.unsubscribes.pending.isEmpty else { return }
        do {
            let n = try store.applyJournaledUnsubscribes(scoring: scoring)
            logger.notice("applied \(n) unsubscribes journaled by the previous run")
        } catch {
            logger.warning("journaled unsubscribes not applied yet (\(error)); their leads get nothing meanwhile")
        }
    }

    public func run() async throws {
        var waiting = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if !store.unsubscribes.pending.isEmpty {
                do {
                    let n = try await store.offPool { [store, scoring] in try store.applyJournaledUnsubscribes(scoring: scoring()) }
                    if n > 0 { logger.info("applied \(n) journaled unsubscribes") }
                    waiting = false
                } catch {
                    if !waiting { logger.warning("journaled unsubscribes wait for the database writer: \(error)") }
                    waiting = true
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(250)) }
            } catch {
                break
            }
        }
    }
}
