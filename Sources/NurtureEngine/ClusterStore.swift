import Foundation
import NurtureCore

/// What a node's membership (NodeService) needs from storage: registration, the heartbeat that keeps its claims its
/// own, and recovery of the claims of nodes that stopped beating. SQLite is a cluster of one: its heartbeat
/// touches nothing and its only claims are recovered at start-up.
public protocol ClusterStore: Sendable {
    /// This process's node id: every claim it makes carries it.
    var nodeID: String { get }
    /// How long a claim stays this node's without a heartbeat.
    var lease: TimeSpan { get }
    /// Whether other daemons may share the database (PostgreSQL): only then does the node beat (SQLite's file lock
    /// keeps it alone, and a scaled demo clock would make it beat thousands of times a second for nothing).
    var isShared: Bool { get }
    /// Registers the node (at start, before any claim).
    func join(hostname: String, version: String, now: Date) async throws
    /// Renews the node's heartbeat and extends the leases of everything it holds; returns the live nodes.
    func heartbeat(now: Date) async throws -> [ClusterNode]
    /// Sends left `sending` by nodes whose lease expired go back to `scheduled`, flagged possibly sent; hand-offs they
    /// held are released. Never touches a live node's rows. Returns how many sends were recovered.
    func recoverExpired(now: Date) async throws -> Int
    /// A clean stop: what the node still holds is given back at once and its registration removed.
    func leave(now: Date) async throws
}
