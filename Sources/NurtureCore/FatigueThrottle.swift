import Foundation

/// The per-lead fatigue rule, across all the lead's sequences: a minimum gap, and a cap per rolling window.
public enum FatigueThrottle {
    /// The earliest instant at or after `t` that respects the policy, given the lead's recent sends
    /// (sent or in flight). Never earlier than `t`: a postponed step is never sent early, never dropped.
    public static func earliest(from t: Date, recentSends: [Date], policy: ThrottlePolicy) -> Date {
        var t = t
        if let last = recentSends.max() { t = max(t, last.addingTimeInterval(Double(policy.minGap.seconds))) }
        let window = Double(policy.maxWindow.seconds)
        let sorted = recentSends.sorted()
        while true {
            // Sends in the rolling window (t - window, t].
            let inWindow = sorted.filter { $0 > t.addingTimeInterval(-window) && $0 <= t }
            guard inWindow.count >= policy.maxCount else { return t }
            t = inWindow[inWindow.count - policy.maxCount].addingTimeInterval(window)
        }
    }
}

/// Where a due step may actually go out: the first instant that is both inside the lead's window and allowed by the throttle.
public enum SendSlot {
    public static func earliest(from t: Date, window: SendWindow, zone: TimeZone, recentSends: [Date], policy: ThrottlePolicy) -> Date {
        var t = t
        // Each move only goes forward and both rules are monotone, so this settles in a few rounds.
        for _ in 0..<32 {
            let next = window.nextOpening(atOrAfter: FatigueThrottle.earliest(from: t, recentSends: recentSends, policy: policy), in: zone)
            if next == t { return t }
            t = next
        }
        return t
    }
}
