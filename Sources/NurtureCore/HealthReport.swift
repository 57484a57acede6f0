/// What `/healthz` answers and the watchdog obeys: the problems found at one moment, each with its reason.
public struct HealthReport: Sendable, Hashable {
    public struct Problem: Sendable, Hashable {
        public var condition: HealthCondition
        public var reason: String

        public init(_ condition: HealthCondition, reason: String) {
            self.condition = condition
            self.reason = reason
        }
    }

    /// Sorted by condition name, so the answer is stable.
    public var problems: [Problem]

    public init(problems: [Problem]) { self.problems = problems.sorted { $0.condition.name < $1.condition.name } }

    public var isHealthy: Bool { problems.isEmpty }
    /// False once a problem that a restart may cure is present: the pings stop and systemd restarts the daemon.
    public var watchdogMayPing: Bool { !problems.contains { $0.condition.stopsWatchdog } }

    public func has(_ condition: HealthCondition) -> Bool { problems.contains { $0.condition == condition } }
}
