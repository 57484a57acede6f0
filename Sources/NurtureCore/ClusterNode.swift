import Foundation

/// One `nurture serve` registered on a database: a cluster member is alive while its heartbeat is younger than
/// the lease, so its claims belong to it and to no one else.
public struct ClusterNode: Sendable, Hashable {
    public var id: String
    public var hostname: String
    public var version: String
    public var startedAt: Date
    public var heartbeatAt: Date

    public init(id: String, hostname: String, version: String, startedAt: Date, heartbeatAt: Date) {
        self.id = id
        self.hostname = hostname
        self.version = version
        self.startedAt = startedAt
        self.heartbeatAt = heartbeatAt
    }

    /// Seconds since its last heartbeat (never negative: clocks of two nodes may differ a little).
    public func heartbeatAge(now: Date) -> TimeInterval { max(0, now.timeIntervalSince(heartbeatAt)) }

    /// A node whose heartbeat is older than the lease has stopped extending its leases: its claims are up for recovery.
    public func isAlive(now: Date, lease: TimeSpan) -> Bool { heartbeatAge(now: now) < Double(lease.seconds) }

    /// A fresh id per start (host, process, random), so a restarted node never completes its previous life's claims.
    public static func makeID(hostname: String, pid: Int32, random: UInt32) -> String {
        let host = String(hostname.prefix(40).map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." ? $0 : "-" })
        return "\(host)-\(pid)-\(String(random, radix: 16))"
    }
}
