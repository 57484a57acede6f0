/// How one node's limits follow from the cluster's: each of N live nodes takes 1/N of the global `rate`, of each
/// domain's `domain_rate` and of `domain_concurrency` (at least one connection each), so their sum is the limit the
/// operator configured. The token bucket stays the one rate rule; only its rate is shared.
public struct ClusterShare: Sendable, Hashable {
    /// Live nodes, the caller's included (at least one).
    public let nodes: Int

    public init(nodes: Int) { self.nodes = max(1, nodes) }

    public static let alone = ClusterShare(nodes: 1)

    public func rate(_ limit: Double) -> Double { limit / Double(nodes) }

    /// Connections per domain on this node; never zero, so with more nodes than connections the cluster may open
    /// one per node (the documented exception to the shared limit).
    public func concurrency(_ limit: Int) -> Int { max(1, limit / nodes) }

    /// The throttle this node applies: the cluster's with its rates and concurrency divided.
    public func apply(to throttle: ThrottlePolicy) -> ThrottlePolicy {
        guard nodes > 1 else { return throttle }
        var t = throttle
        t.globalRate = rate(throttle.globalRate)
        t.domainRate = rate(throttle.domainRate)
        t.domainConcurrency = concurrency(throttle.domainConcurrency)
        return t
    }
}
