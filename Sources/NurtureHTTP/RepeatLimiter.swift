import Foundation
import Synchronization

/// Caps how many hits of one token are written to the event table per window: a loop replaying a pixel or a
/// link (wrk once recorded 115 587 opens of one token) gets its answer, but past the cap nothing is stored.
/// The table is bounded too: past `maxKeys` tokens, windows that ended are dropped, then everything.
final class RepeatLimiter: Sendable {
    struct Key: Hashable, Sendable {
        var outboxID: Int64
        var kind: UInt8
        var link: Int
    }

    let perWindow: Int
    let window: TimeInterval
    let maxKeys: Int
    private let counts = Mutex<[Key: (start: Date, count: Int)]>([:])

    init(perWindow: Int = 10, window: TimeInterval = 3_600, maxKeys: Int = 100_000) {
        self.perWindow = perWindow
        self.window = window
        self.maxKeys = maxKeys
    }

    /// Whether this hit may be recorded.
    func admit(_ key: Key, at now: Date) -> Bool {
        counts.withLock { counts in
            if var entry = counts[key], now.timeIntervalSince(entry.start) < window, now >= entry.start {
                guard entry.count < perWindow else { return false }
                entry.count += 1
                counts[key] = entry
                return true
            }
            if counts.count >= maxKeys {
                counts = counts.filter { now.timeIntervalSince($0.value.start) < window }
                if counts.count >= maxKeys { counts.removeAll(keepingCapacity: true) }
            }
            counts[key] = (now, 1)
            return true
        }
    }
}
