import Foundation
import Logging
import NurtureCore
import ServiceLifecycle

/// This node's membership of the cluster: every third of the lease it renews its heartbeat (extending the leases of
/// the sends, leads, jobs and hand-offs it holds), reads who else is alive for the scheduler's share of the limits,
/// and recovers the sends of nodes that stopped beating. Early in the group, so it is shut down after the
/// scheduler has drained; then it gives back what it still holds and leaves.
public struct NodeService: Service {
    let store: ClusterStore
    let view: ClusterView
    let clock: NurtureClock
    let logger: Logger

    public init(store: ClusterStore, view: ClusterView, clock: NurtureClock, logger: Logger) {
        self.store = store
        self.view = view
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let interval = Double(store.lease.seconds) / 3
        var failing: String? // logged once, then its end
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now()
            do {
                view.update(try await store.heartbeat(now: now))
                let recovered = try await store.recoverExpired(now: now)
                if recovered > 0 {
                    logger.warning("\(recovered) sends of a node that stopped were recovered; they will be retried and are marked possibly sent")
                }
                if failing != nil { logger.notice("cluster heartbeat recovered") }
                failing = nil
            } catch {
                let reason = LogRedaction.addresses("\(error)")
                if failing != reason { logger.error("cluster heartbeat failed: \(reason); other nodes recover this node's sends if it lasts \(store.lease.seconds) s") }
                failing = reason
            }
            do {
                try await cancelWhenGracefulShutdown { [clock] in try await clock.sleep(until: now.addingTimeInterval(interval)) }
            } catch {
                break
            }
        }
        guard !Task.isCancelled else { return } // the drain outlived its bound: the leases expire on their own
        do {
            try await store.leave(now: clock.now())
        } catch {
            logger.warning("cannot leave the cluster cleanly (\(LogRedaction.addresses("\(error)"))); what this node held is recovered once its lease expires")
        }
    }
}
