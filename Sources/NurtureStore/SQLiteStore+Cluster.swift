import Foundation
import NurtureCore
import NurtureEngine

/// SQLite is a cluster of one (its file lock makes sure): no lease to extend, nothing of another node to recover,
/// no lead or job another node could be deciding.
extension SQLiteStore: ClusterStore {
    public var nodeID: String { member.withLock { $0?.id } ?? "local" }
    public var lease: TimeSpan { TimeSpan(seconds: 30) }
    public var isShared: Bool { false }

    public func join(hostname: String, version: String, now: Date) async throws {
        member.withLock {
            $0 = ClusterNode(id: ClusterNode.makeID(hostname: hostname, pid: getpid(), random: 0), hostname: hostname, version: version,
                             startedAt: now, heartbeatAt: now)
        }
    }

    public func heartbeat(now: Date) async throws -> [ClusterNode] {
        member.withLock { node in
            node?.heartbeatAt = now
            return node.map { [$0] } ?? []
        }
    }

    /// Its claims are all recovered at start-up (`recoverInterrupted`): no other node can have left any.
    public func recoverExpired(now: Date) async throws -> Int { 0 }
    public func leave(now: Date) async throws { member.withLock { $0 = nil } }

    /// Nothing registered: the file lock is SQLite's one node.
    public func clusterNodes() async throws -> [ClusterNode] { [] }

    public func releaseLeads() async throws {}
    public func takeJob(_ name: String, now: Date) async throws -> Bool { true }
    public func releaseJob(_ name: String) async throws {}
}
