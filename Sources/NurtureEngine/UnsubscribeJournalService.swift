import Logging
import NurtureCore
import ServiceLifecycle

/// Moves one-click unsubscribes from the journal into the database as soon as the writer is free (another
/// process may hold it for a while); until then the scheduler already treats their leads as unsubscribed.
public struct UnsubscribeJournalService: Service {
    let store: JournalStore
    let scoring: @Sendable () -> ScoringContext
    let logger: Logger

    public init(store: JournalStore, scoring: @escaping @Sendable () -> ScoringContext, logger: Logger) {
        self.store = store
        self.scoring = scoring
        self.logger = logger
    }

    /// Before anything is sent: what an earlier run journaled but did not apply.
    public static func applyAtStart(_ store: JournalStore, scoring: ScoringContext, logger: Logger) async {
        guard store.hasJournaledUnsubscribes else { return }
        do {
            let n = try await store.applyJournaledUnsubscribes(scoring: scoring)
            logger.notice("applied \(n) unsubscribes journaled by the previous run")
        } catch {
            logger.warning("journaled unsubscribes not applied yet (\(error)); their leads get nothing meanwhile")
        }
    }

    public func run() async throws {
        var waiting = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            if store.hasJournaledUnsubscribes {
                do {
                    let n = try await store.applyJournaledUnsubscribes(scoring: scoring())
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
