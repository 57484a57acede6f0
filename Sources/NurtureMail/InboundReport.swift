import NurtureCore

/// What an inbound message is to Nurture, and every handle it gives on one of our messages or leads: the processor
/// matches with these and never reads the message again.
public struct InboundReport: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// RFC 3464 delivery status notification. `permanent`: `Action: failed` with a 5.x.x status; otherwise a
        /// soft bounce (4.x.x, `delayed`). `status` is the RFC 3463 code (`5.1.1`), `diagnostic` the remote
        /// server's words, `recipient` the Final-/Original-Recipient address, all as reported.
        case bounce(permanent: Bool, status: String, diagnostic: String?, recipient: String?)
        /// RFC 5965 feedback report (`abuse`, `fraud`, `virus`, `other`…), as the `Feedback-Type` says.
        case complaint(feedbackType: String)
        /// RFC 3834 automatic response; `outOfOffice` for vacation replies (by header or by a common subject).
        case autoReply(outOfOffice: Bool)
        /// A person wrote back.
        case reply
        /// Anything else (a report Nurture cannot read, mail that is none of the above): kept aside with this reason.
        case unclassified(reason: String)
    }

    public var kind: Kind
    /// The inbound message's own Message-ID, `<…>` as written, so a message fetched or piped twice counts once.
    public var messageID: String?
    /// Addresses that may carry a VERP id, most trusted first: the envelope recipient the MTA gave, then
    /// `Delivered-To`, `X-Original-To`, `To`, `Cc`, and a feedback report's `Original-Mail-From`.
    public var addresses: [String]
    /// A DSN's `Original-Envelope-Id` values.
    public var envelopeIDs: [String]
    /// Message-IDs (`<…>`) that name the message this one is about, most telling first: for a DSN or a feedback
    /// report the returned message's `Message-ID`; for a reply `In-Reply-To`, then `References` from last to first.
    public var referencedMessageIDs: [String]
    /// The `From` address, when it is a valid one.
    public var from: EmailAddress?
    /// Decoded `Subject` (RFC 2047), single line.
    public var subject: String?

    public init(kind: Kind, messageID: String? = nil, addresses: [String] = [], envelopeIDs: [String] = [],
                referencedMessageIDs: [String] = [], from: EmailAddress? = nil, subject: String? = nil) {
        self.kind = kind
        self.messageID = messageID
        self.addresses = addresses
        self.envelopeIDs = envelopeIDs
        self.referencedMessageIDs = referencedMessageIDs
        self.from = from
        self.subject = subject
    }
}

/// Why some bytes could not be read as a message at all (the pipe's exit 65): anything that is a message, however
/// odd, is classified instead, `unclassified` at worst.
public struct InboundFormatError: Error, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
