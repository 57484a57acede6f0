import Foundation

/// A sent message as the tracking endpoints see it.
public struct TrackedMessage: Sendable, Hashable {
    public var outboxID: Int64
    public var leadID: Int64
    public var email: EmailAddress
    public var firstName: String?
    public var locale: String?
    public var sequenceID: String
    public var stepID: String
    public var sentAt: Date?
    /// The message's original link targets, by the index its `/c/` tokens carry.
    public var links: [String]
    public var suppressed: Bool

    public init(outboxID: Int64, leadID: Int64, email: EmailAddress, firstName: String?, locale: String?, sequenceID: String,
                stepID: String, sentAt: Date?, links: [String], suppressed: Bool) {
        self.outboxID = outboxID
        self.leadID = leadID
        self.email = email
        self.firstName = firstName
        self.locale = locale
        self.sequenceID = sequenceID
        self.stepID = stepID
        self.sentAt = sentAt
        self.links = links
        self.suppressed = suppressed
    }
}

/// An open or a click to record, from the tracking endpoints.
public struct TrackedEvent: Sendable, Hashable {
    public enum Kind: String, Sendable { case open, click }
    public var kind: Kind
    public var message: TrackedMessage
    public var link: Int?
    public var at: Date
    /// Why it is taken for a machine's, or nil for a person's.
    public var machineReason: String?

    public init(kind: Kind, message: TrackedMessage, link: Int? = nil, at: Date, machineReason: String?) {
        self.kind = kind
        self.message = message
        self.link = link
        self.at = at
        self.machineReason = machineReason
    }
}

/// A hit on the open pixel or on a link, for the next batched write.
public enum TrackedHit: Sendable, Hashable {
    /// The pixel of the message `outboxID` names; `head` for a HEAD request (a machine's).
    case open(outboxID: Int64, at: Date, userAgent: String?, head: Bool)
    /// An event whose message the caller has read already (a click needs its link before it answers).
    case event(TrackedEvent)
}

public enum UnsubscribeResult: Sendable, Hashable {
    case unsubscribed
    case alreadyUnsubscribed
    case unknownMessage
}

/// The unsubscribe page's choices besides the one-click global unsubscribe (which stays the default).
public enum RecipientChoice: Sendable, Hashable {
    /// Leave only the sequence the message came from; the lead's other mail goes on.
    case leaveSequence
    /// Pause every nurture email for this many days; due steps wait, none is dropped.
    case pause(days: Int)

    /// The days a pause may last, as the page offers them.
    public static let pauseDays = [30, 90]

    /// As a form field carries it (`leave`, `pause30`, `pause90`).
    public var formValue: String {
        switch self {
        case .leaveSequence: "leave"
        case .pause(let days): "pause\(days)"
        }
    }

    public init?(formValue: String) {
        if formValue == "leave" { self = .leaveSequence; return }
        guard formValue.hasPrefix("pause"), let days = Int(formValue.dropFirst(5)), Self.pauseDays.contains(days) else { return nil }
        self = .pause(days: days)
    }
}

/// What a recipient's choice did.
public enum RecipientChoiceResult: Sendable, Hashable {
    /// Left the sequence (its name as the page shows it comes from the catalog).
    case left(sequenceID: String)
    /// Nurture mail waits until then.
    case paused(until: Date)
    /// The address is unsubscribed already: nothing more to choose.
    case alreadyUnsubscribed
    case unknownMessage
}
