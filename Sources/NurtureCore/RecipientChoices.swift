import Foundation

/// What a recipient's choice on the unsubscribe page records: the rule each store follows.
public enum RecipientChoices {
    /// The end reason of an enrollment the recipient left; `ReentryPolicy` never brings such a lead back.
    public static let leftReason = "left by the recipient"

    /// When a pause chosen at `at` ends: whole days, so "30 days" means the same time of day a month on.
    public static func pauseEnd(days: Int, from at: Date) -> Date { at.addingTimeInterval(Double(days) * 86_400) }

    /// The event a choice records (its type and data): the lead's consent history, scored by `scoring.points`.
    public static func event(_ choice: RecipientChoice, until: Date?) -> (type: EventKind, data: String, cause: String) {
        switch choice {
        case .leaveSequence:
            return (.sequenceLeft, "{\"via\":\"unsubscribe page\"}", "left the sequence (unsubscribe page)")
        case .pause(let days):
            let end = until.map(DateText.iso) ?? ""
            return (.paused, "{\"via\":\"unsubscribe page\",\"days\":\(days),\"until\":\"\(end)\"}", "paused for \(days) days (unsubscribe page)")
        }
    }
}
