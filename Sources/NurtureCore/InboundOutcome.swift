/// What one inbound message amounted to: the `inbound` table's outcome, `stats` and the metrics' label.
public enum InboundOutcome: String, Hashable, Sendable, CaseIterable {
    case hardBounce = "hard_bounce"
    case softBounce = "soft_bounce"
    case complaint
    case autoReply = "auto_reply"
    case reply
    /// Deliberately dropped: a report about none of our messages, an auto-reply to nobody we know.
    case ignored
    /// Kept aside with its reason for an operator to look at.
    case quarantined
}
