import Foundation

/// A lead's latest enrollment in one sequence, as intake sees it: may the lead enter that sequence again?
public struct PastEnrollment: Sendable, Hashable {
    public var active: Bool
    public var endedAt: Date?
    public var endReason: String?

    public init(active: Bool, endedAt: Date? = nil, endReason: String? = nil) {
        self.active = active
        self.endedAt = endedAt
        self.endReason = endReason
    }

    /// Reads the store's `sequence␞state␞ended_at␞reason` records (␞ between fields, ␟ between records): an active
    /// enrollment wins, else the one that ended last.
    public static func parse(_ text: String?) -> [String: PastEnrollment] {
        var past: [String: PastEnrollment] = [:]
        for record in (text ?? "").split(separator: "\u{1F}") {
            let f = record.split(separator: "\u{1E}", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard f.count == 4, !f[0].isEmpty else { continue }
            let e = PastEnrollment(active: f[1] == "active", endedAt: Int64(f[2]).map { Date(timeIntervalSince1970: Double($0) / 1000) },
                                   endReason: f[3].isEmpty ? nil : f[3])
            if let kept = past[f[0]] {
                if kept.active { continue }
                if !e.active, (kept.endedAt ?? .distantPast) >= (e.endedAt ?? .distantPast) { continue }
            }
            past[f[0]] = e
        }
        return past
    }
}

/// `reenter.after`: who may start a sequence again, and when. One rule for intake, `simulate` and `plan`.
public enum ReentryPolicy {
    /// Ends that withdrew consent or handed the lead on: such a lead never re-enters on its own (sales' answer may
    /// still enroll it). The prefixes of the reasons the stores record.
    static let barred = ["unsubscribed", RecipientChoices.leftReason, "suppressed", "hard bounce", "complaint", "soft bounce", "handed to sales"]

    /// Whether the lead may enter `sequence` now, given its latest enrollment there (nil: never enrolled).
    public static func mayEnter(_ sequence: NurtureSequence, past: PastEnrollment?, now: Date) -> Bool {
        guard let past else { return true }
        guard !past.active, let after = sequence.reenterAfter, let ended = past.endedAt else { return false }
        if let reason = past.endReason, barred.contains(where: { reason.hasPrefix($0) }) { return false }
        return ended.addingTimeInterval(Double(after.seconds)) <= now
    }
}
