import Foundation

/// What an inbound message does to its lead, decided once here for the pipe, IMAP and every store.
public enum InboundEffect: Hashable, Sendable {
    /// Suppresses the address (`bounced`, `complained`), records and scores `event`, ends every enrollment.
    case suppress(reason: String, event: String, cause: String)
    /// Records and scores `event`; `postponeTo` pushes the lead's scheduled sends (an out-of-office).
    case record(event: String, cause: String, postponeTo: Date?)
    /// Changes nothing on any lead (the message is still remembered, so it counts once).
    case none

    /// Decides the outcome and effect of a classified message for the lead it matched (nil: it matched none).
    public static func decide(_ signal: InboundSignal, target: InboundTarget?, policy: InboundPolicy, now: Date) -> (InboundOutcome, InboundEffect, reason: String?) {
        switch signal {
        case let .bounce(permanent, status, _):
            // A forged or stray report cannot suppress an address: only one naming a message we sent counts.
            guard let target, target.outboxID != nil else { return (.ignored, .none, "delivery report for none of our messages") }
            if permanent { return (.hardBounce, .suppress(reason: "bounced", event: EventKind.bounce.name, cause: "hard bounce: \(status)"), status) }
            let count = target.softBouncesInARow + 1
            if count >= policy.softBounceLimit {
                return (.softBounce, .suppress(reason: "bounced", event: EventKind.softBounce.name,
                                               cause: "soft bounce \(count) in a row (limit \(policy.softBounceLimit)): \(status)"), status)
            }
            return (.softBounce, .record(event: EventKind.softBounce.name, cause: "soft bounce: \(status)", postponeTo: nil), status)
        case let .complaint(type):
            guard let target, target.outboxID != nil else { return (.ignored, .none, "feedback report for none of our messages") }
            return (.complaint, .suppress(reason: "complained", event: EventKind.complaint.name, cause: "complaint: \(type)"), type)
        case let .autoReply(outOfOffice):
            guard target != nil else { return (.ignored, .none, "automatic reply to none of our messages") }
            let postpone = outOfOffice ? policy.outOfOfficePostpone.map { now.addingTimeInterval(Double($0.seconds)) } : nil
            return (.autoReply, .record(event: EventKind.autoReply.name, cause: outOfOffice ? "out of office" : "automatic reply",
                                        postponeTo: postpone), outOfOffice ? "out of office" : nil)
        case .reply:
            guard target != nil else {
                return (.quarantined, .none, "reply that names none of our messages, from an address that is no lead")
            }
            return (.reply, .record(event: EventKind.replied.name, cause: "replied", postponeTo: nil), nil)
        }
    }
}
