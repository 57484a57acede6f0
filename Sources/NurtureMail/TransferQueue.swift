/// Which waiting message may start next on a free connection: the first in order whose recipient domain is
/// under its concurrency limit (Postfix's per-destination concurrency), so one big domain cannot take every
/// connection while the rest of the group streams on.
struct TransferQueue {
    private var waiting: [Int]
    private let domains: [Substring]
    private let perDomain: Int
    private var active: [Substring: Int] = [:]

    /// - Parameter domains: the recipient domain of each message, by index.
    init(domains: [Substring], perDomain: Int) {
        waiting = Array(domains.indices)
        self.domains = domains
        self.perDomain = max(1, perDomain)
    }

    var isEmpty: Bool { waiting.isEmpty }

    /// The next message to start, now counted as active; nil when every waiting one is held by its domain's limit.
    mutating func start() -> Int? {
        guard let position = waiting.firstIndex(where: { active[domains[$0], default: 0] < perDomain }) else { return nil }
        let index = waiting.remove(at: position)
        active[domains[index], default: 0] += 1
        return index
    }

    /// A started message is done: its domain has a slot again.
    mutating func finish(_ index: Int) {
        active[domains[index], default: 1] -= 1
    }
}
