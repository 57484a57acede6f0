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
    /// Try again later (4xx, connection trouble, timeouts, or never started because the transport stopped).
    case temporaryFailure(String)
    /// Will never succeed; `recipientRejected` for a 5xx about the recipient (a hard bounce).
    case permanentFailure(String, recipientRejected: Bool)
    /// Given up while the server had the message (a shutdown deadline): it may have been delivered, so it is
    /// left in flight and counted as possibly sent when the daemon starts again.
    case abandoned(String)
}

/// Where mail goes. Owned by the engine; the file outbox and SMTP implement it.
///
/// A transport does its blocking work on threads of its own, started by `run()` and joined before it returns; the
/// caller of `transfer` only awaits. (`run` has the shape of a swift-service-lifecycle `Service`: the engine puts
/// transports in its `ServiceGroup`.)
public protocol Transport: Sendable {
    /// Messages transferred at once at most (connections).
    var concurrency: Int { get }
    /// Messages committed as `sending` together, and so the bound on "possibly sent" messages after a crash.
    /// Wider than `concurrency` lets connections stream through a group with no barrier after every message.
    var groupWidth: Int { get }
    /// Another group may be submitted while one is in flight and streams on the same connections with no pause:
    /// the caller then claims one group ahead (at most two groups are "possibly sent" after a crash).
    var overlapsGroups: Bool { get }
    /// Transfers one group (at most `perDomain` at once to one recipient domain) and returns its results in order.
    /// Groups submitted while others are in flight are queued in order and share the connections. Cancelling the
    /// caller gives up: messages not started come back as `temporaryFailure`, those in flight as `abandoned`.
    func transfer(_ messages: [OutgoingMessage], perDomain: Int) async -> [DeliveryResult]
    /// Owns the transport's threads for as long as it runs: returns (or throws `CancellationError`) once cancelled,
    /// with every thread joined and every handle released. Transfers submitted before it starts wait for it.
    func run() async throws
}

extension Transport {
    public var groupWidth: Int { concurrency }
    public var overlapsGroups: Bool { false }

    /// Transports with no threads of their own (their work runs on a dispatch queue) have nothing to start.
    public func run() async throws {
        while true { try await Task.sleep(for: .seconds(3_600)) }
    }

    /// Delivers one group of messages and returns their results, in order.
    public func deliver(_ messages: [OutgoingMessage]) async -> [DeliveryResult] {
        await transfer(messages, perDomain: .max)
    }
}
