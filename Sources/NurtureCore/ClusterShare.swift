/// How one node's limits follow from the cluster's, so that their sum is the limit the operator configured: of
/// `domain_concurrency`, each of N live nodes takes limit ÷ N connections per domain, the remainder going to the
/// first nodes by id (their rank); with more nodes than connections the last ones get none and deliver nothing
/// (they still serve HTTP, take intake and recover), and the nodes that deliver share the global `rate` and each
/// domain's `domain_rate` equally. The token bucket stays the one rate rule; only its rate is shared.
public struct ClusterShare: Sendable, Hashable {
    /// Live nodes, the caller's included (at least one).
    public let nodes: Int
    /// The caller's place among the live nodes, ordered by id (0 for the first).
    public let rank: Int

    public init(nodes: Int, rank: Int = 0) {
        self.nodes = max(1, nodes)
        self.rank = min(max(0, rank), self.nodes - 1)
    }

    public static let alone = ClusterShare(nodes: 1)

    /// Connections per domain on this node; zero when the cluster's connections are all taken by nodes before it.
    public func concurrency(_ limit: Int) -> Int {
        nodes == 1 ? limit : limit / nodes + (rank < limit % nodes ? 1 : 0)
    }

    /// How many nodes deliver: every node, unless there are fewer connections than nodes.
    public func senders(_ concurrencyLimit: Int) -> Int { min(nodes, max(1, concurrencyLimit)) }

    /// The throttle this node applies: the cluster's with its rates and concurrency divided (concurrency 0: this
    /// node sends nothing).
    public func apply(to throttle: ThrottlePolicy) -> ThrottlePolicy {
        guard nodes > 1 else { return throttle }
        let senders = Double(senders(throttle.domainConcurrency))
        var t = throttle
        t.globalRate = throttle.globalRate / senders
        t.domainRate = throttle.domainRate / senders
        t.domainConcurrency = concurrency(throttle.domainConcurrency)
        return t
    }
}
