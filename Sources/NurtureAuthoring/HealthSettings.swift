import Yams
import NurtureCore

/// The `health:` section: when `/healthz` and the systemd watchdog give up on a scheduler whose ticks all fail.
public struct HealthSettings: Sendable, Hashable {
    /// Every tick failing for this long makes `/healthz` answer 503 (`scheduler_failing`) and stops the pings.
    public var schedulerFailingAfter = TimeSpan.minutes(5)

    public init() {}
}

extension ConfigLoader {
    static func readHealth(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let m = r.mapping(node, "'health'", allowed: ["scheduler_failing_after"]) else { return }
        if let n = m["scheduler_failing_after"]?.value, let v = r.timeSpan(n, "'health.scheduler_failing_after'") {
            if v.seconds < 1 { return r.error(n, "'health.scheduler_failing_after' must be at least 1s") }
            config.health.schedulerFailingAfter = v
        }
    }
}
