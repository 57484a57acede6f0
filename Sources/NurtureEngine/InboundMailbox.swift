/// A mailbox the daemon reads inbound mail from (IMAP in production): what InboundService needs, no more.
public protocol InboundMailbox: Sendable {
    /// Names the source in the inbound table and logs (`imap:host/INBOX`), never with credentials.
    var name: String { get }
    /// UIDs of the messages not processed yet.
    func unprocessed() async throws -> [UInt32]
    /// The message as stored, without marking it read: a crash before it is recorded must leave it to fetch again.
    func fetch(uid: UInt32) async throws -> [UInt8]
    /// Flags or moves it, once it is recorded.
    func markProcessed(uid: UInt32) async throws
}
