import Foundation
import NurtureCore
import Synchronization

/// The cluster as this node last saw it (its heartbeat's answer): the scheduler divides its limits by the live
/// nodes, `/metrics` lists them. One node until the first heartbeat, and on SQLite (which never beats).
public final class ClusterView: Sendable {
    private let state = Mutex<[ClusterNode]>([])
    /// This node's id: its rank among the live nodes decides which of them get a remainder of connections.
    let nodeID: String

    public init(nodeID: String) { self.nodeID = nodeID }

    public func update(_ nodes: [ClusterNode]) { state.withLock { $0 = nodes } }

    public var nodes: [ClusterNode] { state.withLock { $0 } }

    public var share: ClusterShare {
        let ids = state.withLock { $0.map(\.id) }.sorted()
        return ClusterShare(nodes: ids.count, rank: ids.firstIndex(of: nodeID) ?? ids.count - 1)
    }

    /// Prometheus lines: the live node count and each node's heartbeat age, as of `now`.
    public func metricsText(now: Date) -> String {
        let nodes = self.nodes
        var lines = ["# HELP nurture_cluster_nodes Live nodes on this database, as of this node's last heartbeat",
                     "# TYPE nurture_cluster_nodes gauge", "nurture_cluster_nodes \(max(1, nodes.count))",
                     "# HELP nurture_cluster_node_heartbeat_age_seconds Seconds since each live node's last heartbeat",
                     "# TYPE nurture_cluster_node_heartbeat_age_seconds gauge"]
        for n in nodes.sorted(by: { $0.id < $1.id }) {
            lines.append("nurture_cluster_node_heartbeat_age_seconds{node=\"\(Self.label(n.id))\",host=\"\(Self.label(n.hostname))\",version=\"\(Self.label(n.version))\"} "
                         + String(format: "%.3f", n.heartbeatAge(now: now)))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A Prometheus label value: backslash, quote and newline escaped.
    static func label(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
