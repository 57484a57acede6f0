import NurtureCore
import Synchronization

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
    /// Runs `count` transfer groups one after another on the transport's own thread: `prepare(i)` builds group i's
    /// messages (at most `concurrency`) there, they are transferred, and `finish(i, results)` records the results
    /// before group i + 1 is prepared. Nothing is handed between threads per message; an empty group is skipped.
    func run(groups count: Int, prepare: @escaping @Sendable (Int) -> [OutgoingMessage],
             finish: @escaping @Sendable (Int, [DeliveryResult]) -> Void) async
}

extension Transport {
    /// Delivers one group of messages and returns their results, in order.
    public func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryResult] {
        let results = Mutex<[DeliveryResult]>([])
        await run(groups: 1, prepare: { _ in messages }, finish: { _, r in results.withLock { $0 = r } })
        return results.withLock { $0 }
    }
}
