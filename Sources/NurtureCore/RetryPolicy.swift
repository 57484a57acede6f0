import Foundation

/// When to retry a temporary delivery failure: exponential backoff clamped between a minimum and a maximum,
/// with jitter so retries don't synchronise, giving up after a maximum age (Postfix's defaults).
public struct RetryPolicy: Sendable, Hashable {
    public var minimum: TimeSpan
    public var maximum: TimeSpan
    public var giveUpAfter: TimeSpan

    public init(minimum: TimeSpan = TimeSpan(seconds: 300), maximum: TimeSpan = TimeSpan(seconds: 4000), giveUpAfter: TimeSpan = .days(5)) {
        self.minimum = minimum
        self.maximum = maximum
        self.giveUpAfter = giveUpAfter
    }

    /// nil once the message has been failing for longer than `giveUpAfter`; `jitter` in 0...1 (0.5 = none).
    public func retryAt(attempts: Int, firstAttempt: Date, now: Date, jitter: Double) -> Date? {
        guard now.timeIntervalSince(firstAttempt) < Double(giveUpAfter.seconds) else { return nil }
        let base = Double(minimum.seconds) * pow(2, Double(max(0, attempts - 1)))
        let clamped = min(Double(maximum.seconds), max(Double(minimum.seconds), base))
        let spread = clamped * (0.8 + 0.4 * min(1, max(0, jitter)))
        return now.addingTimeInterval(min(Double(maximum.seconds), max(Double(minimum.seconds), spread)))
    }
}
