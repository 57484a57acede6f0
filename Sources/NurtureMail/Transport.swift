import NurtureCore

/// An encoded message ready for a transport: envelope and bytes.
public struct OutgoingMessage: Sendable {
    public var outboxID: Int64
    public var messageID: String
    /// Envelope sender (VERP: `bounces+ID@domain`), validated.
    public var envelopeFrom: EmailAddress
    public var recipient: EmailAddress
    /// The decoded subject, for logs and `simulate`.
    public var subject: String
    public var data: [UInt8]

    public init(outboxID: Int64, messageID: String, envelopeFrom: EmailAddress, recipient: EmailAddress, subject: String = "", data: [UInt8]) {
        self.outboxID = outboxID
        self.messageID = messageID
        self.envelopeFrom = envelopeFrom
        self.recipient = recipient
        self.subject = subject
        self.data = data
    }
}

/// What became of one message.
public enum DeliveryResult: Sendable, Hashable {
    /// Accepted; the server's reply (or where the file was written).
    case sent(reply: String)
    /// Try again later (4xx, connection trouble, timeouts).
    case temporaryFailure(String)
    /// Will never succeed; `recipientRejected` for a 5xx about the recipient (a hard bounce).
    case permanentFailure(String, recipientRejected: Bool)
}

/// Where mail goes. Owned by the engine; the file outbox and SMTP implement it.
public protocol Transport: Sendable {
    /// Messages transferred at once at most; also the bound on "possibly sent" messages after a crash.
    var concurrency: Int { get }
    /// Delivers the messages (at most `concurrency`), one result per message, in order.
    func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryResult]
}
