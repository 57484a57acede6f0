import Foundation
import Synchronization

/// Time as an input: the daemon reads and waits on a clock; tests and `simulate` drive a manual one.
public protocol NurtureClock: Sendable {
    func now() -> Date
    /// Waits until `deadline` (or is cancelled).
    func sleep(until deadline: Date) async throws
}

/// Wall-clock time.
public struct SystemClock: NurtureClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .milliseconds(Int(seconds * 1000))) }
    }
}

/// Wall-clock time running `factor` times faster from `origin`: the demo runs the real engine, days in minutes.
public struct ScaledClock: NurtureClock {
    public let origin: Date
    public let factor: Double

    public init(origin: Date = Date(), factor: Double) {
        self.origin = origin
        self.factor = factor
    }

    public func now() -> Date { origin.addingTimeInterval(Date().timeIntervalSince(origin) * factor) }

    public func sleep(until deadline: Date) async throws {
        let real = deadline.timeIntervalSince(now()) / factor
        if real > 0 { try await Task.sleep(for: .milliseconds(Int(real * 1000))) }
    }
}

/// A clock that only moves when told to; `sleep` returns once the clock has been advanced past the deadline.
public final class ManualClock: NurtureClock {
    private let state: Mutex<(now: Date, waiters: [(Date, CheckedContinuation<Void, Never>)])>

    public init(_ start: Date) { state = Mutex((start, [])) }

    public func now() -> Date { state.withLock { $0.now } }

    public func advance(to t: Date) {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.now = max(s.now, t)
            let (due, rest) = (s.waiters.filter { $0.0 <= s.now }, s.waiters.filter { $0.0 > s.now })
            s.waiters = rest
            return due.map(\.1)
        }
        ready.forEach { $0.resume() }
    }

    public func advance(by seconds: TimeInterval) { advance(to: now().addingTimeInterval(seconds)) }

    public func sleep(until deadline: Date) async throws {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let immediate = state.withLock { s -> Bool in
                if deadline <= s.now { return true }
                s.waiters.append((deadline, c))
                return false
            }
            if immediate { c.resume() }
        }
        try Task.checkCancellation()
    }
}
