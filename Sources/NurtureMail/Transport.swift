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
    /// Original targets of the tracked links, by index, kept for the click redirects.
    public var links: [String]

    public init(outboxID: Int64, messageID: String, envelopeFrom: EmailAddress, recipient: EmailAddress, subject: String = "",
                data: [UInt8], links: [String] = []) {
        self.outboxID = outboxID
        self.messageID = messageID
        self.envelopeFrom = envelopeFrom
        self.recipient = recipient
        self.subject = subject
        self.data = data
        self.links = links
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
    /// Messages transferred at once at most (connections).
    var concurrency: Int { get }
    /// Messages committed as `sending` together, and so the bound on "possibly sent" messages after a crash.
    /// Wider than `concurrency` lets connections stream through a group with no barrier after every message.
    var groupWidth: Int { get }
    /// Group i + 1 may be prepared and transferred before group i is finished, so that connections never wait
    /// for a commit: the caller then claims one group ahead (at most two groups are "possibly sent" after a crash).
    var overlapsGroups: Bool { get }
    /// Runs `count` transfer groups in order on the transport's own thread: `prepare(i)` builds group i's messages
    /// (at most `groupWidth`) there, they are transferred with at most `perDomain` at once to one recipient
    /// domain, and `finish(i, results)` records the results before group i + 1 is prepared (before group i + 2
    /// when `overlapsGroups`). Finishes are called in order. Nothing is
    /// handed between threads per message; an empty group is skipped. `prepare` may block until group i is
    /// rendered, so both callbacks must run on a thread of the transport's own, never a cooperative one.
    func run(groups count: Int, perDomain: Int, prepare: @escaping @Sendable (Int) -> [OutgoingMessage],
             finish: @escaping @Sendable (Int, [DeliveryResult]) -> Void) async
}

extension Transport {
    public var groupWidth: Int { concurrency }
    public var overlapsGroups: Bool { false }

    /// Delivers one group of messages and returns their results, in order.
    public func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryResult] {
        let results = Mutex<[DeliveryResult]>([])
        await run(groups: 1, perDomain: .max, prepare: { _ in messages }, finish: { _, r in results.withLock { $0 = r } })
        return results.withLock { $0 }
    }
}
