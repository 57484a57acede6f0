import Foundation

/// A rate limit as a token bucket, driven by the caller's clock: bursts up to `capacity`, refills at `rate` per second.
public struct TokenBucket: Sendable {
    public let rate: Double
    public let capacity: Double
    private var tokens: Double
    private var last: Date

    public init(rate: Double, capacity: Double? = nil, now: Date) {
        self.rate = rate
        self.capacity = max(1, capacity ?? rate)
        self.tokens = self.capacity
        self.last = now
    }

    private mutating func refill(_ now: Date) {
        if now > last {
            tokens = min(capacity, tokens + now.timeIntervalSince(last) * rate)
            last = now
        }
    }

    /// Takes one token if there is one.
    public mutating func take(now: Date) -> Bool {
        refill(now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Whole tokens there now: how many sends may go at once.
    public mutating func available(now: Date) -> Int {
        refill(now)
        return Int(tokens)
    }

    /// When the next token will be there.
    public mutating func nextAvailable(now: Date) -> Date {
        refill(now)
        return tokens >= 1 ? now : now.addingTimeInterval((1 - tokens) / rate)
    }
}
