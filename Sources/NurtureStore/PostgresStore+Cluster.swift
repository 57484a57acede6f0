import Foundation
import NurtureCore
import NurtureEngine

/// Several `nurture serve` on one database: each node registers, beats every third of its lease (extending what it
/// holds), and recovers what nodes that stopped beating left in flight. Times are the nodes' clocks (NTP-synced).
extension PostgresStore: ClusterStore {
    public var lease: TimeSpan { options.lease }
    public var isShared: Bool { true }

    var leaseMillis: Int64 { options.lease.seconds * 1_000 }

    public func join(hostname: String, version: String, now: Date) async throws {
        let t = Self.millis(now)
        membership.withLock { $0 = (hostname, version, t) }
        try await writeProgress { tx in try await tx.execute(PostgresSQL.upsertNode(nodeID, hostname: hostname, version: version, startedAt: t, now: t)) }
    }

    public func heartbeat(now: Date) async throws -> [ClusterNode] {
        let t = Self.millis(now), until = t + leaseMillis
        let me = membership.withLock { $0 }
        return try await writeProgress { tx in
            if let me {
                try await tx.execute(PostgresSQL.upsertNode(nodeID, hostname: me.hostname, version: me.version, startedAt: me.startedAt, now: t))
            }
            try await tx.execute(PostgresSQL.extendSends(node: nodeID, until: until))
            try await tx.execute(PostgresSQL.extendLeads(node: nodeID, until: until))
            try await tx.execute(PostgresSQL.extendJobs(node: nodeID, until: until))
            try await tx.execute(PostgresSQL.extendHandoffs(node: nodeID, until: until))
            return try await tx.rows(PostgresSQL.liveNodes(since: t - leaseMillis)).map(Self.node)
        }
    }

    public func recoverExpired(now: Date) async throws -> Int {
        let t = Self.millis(now)
        return try await write { tx in
            let recovered = try await tx.count(PostgresSQL.recoverInFlight(now: t))
            try await tx.execute(PostgresSQL.cancelInFlightOfEndedEnrollments(now: t))
            try await tx.execute(PostgresSQL.releaseExpiredHandoffs(now: t))
            try await tx.execute(PostgresSQL.forgetNodes(silentSince: t - max(3_600_000, 10 * leaseMillis)))
            return recovered
        }
    }

    /// Sends still `sending` (a transfer abandoned at the drain's bound) are recovered now, not a lease later.
    public func leave(now: Date) async throws {
        let t = Self.millis(now)
        try await write { tx in
            try await tx.execute(PostgresSQL.expireSends(node: nodeID, now: t))
            try await tx.execute(PostgresSQL.recoverInFlight(now: t))
            try await tx.execute(PostgresSQL.cancelInFlightOfEndedEnrollments(now: t))
            try await tx.execute(PostgresSQL.releaseLeads(node: nodeID))
            try await tx.execute(PostgresSQL.releaseJobs(node: nodeID))
            try await tx.execute(PostgresSQL.releaseHandoffs(node: nodeID))
            try await tx.execute(PostgresSQL.deleteNode(nodeID))
        }
        membership.withLock { $0 = nil }
    }

    public func releaseLeads() async throws {
        try await writeProgress { tx in try await tx.execute(PostgresSQL.releaseLeads(node: nodeID)) }
    }

    public func takeJob(_ name: String, now: Date) async throws -> Bool {
        let t = Self.millis(now)
        return try await writeProgress { tx in try await tx.count(PostgresSQL.takeJob(name, node: nodeID, until: t + leaseMillis, now: t)) > 0 }
    }

    public func releaseJob(_ name: String) async throws {
        try await writeProgress { tx in try await tx.execute(PostgresSQL.releaseJob(name, node: nodeID)) }
    }

    /// Every registered node, live or silent (not yet forgotten), for `nurture stats`.
    public func clusterNodes() async throws -> [ClusterNode] {
        try await read { tx in try await tx.rows(PostgresSQL.allNodes).map(Self.node) }
    }

    static func node(_ r: PostgresRecord) throws -> ClusterNode {
        ClusterNode(id: try r["id"], hostname: try r["hostname"], version: try r["version"], startedAt: date(try r["started_at"]),
                    heartbeatAt: date(try r["heartbeat_at"]))
    }
}
