import NurtureMail
import Synchronization

/// A configured IMAP mailbox as the inbound poller reads it: UIDs are used only under the UIDVALIDITY they were
/// listed with, so a mailbox rebuilt on the server is never flagged by stale numbers.
final class IMAPInbox: InboundMailbox {
    let mailbox: IMAPMailbox
    let name: String
    private let validity = Mutex<UInt32?>(nil)

    init(_ mailbox: IMAPMailbox) {
        self.mailbox = mailbox
        name = "imap:" + IMAPInbox.hostAndFolder(mailbox.settings)
    }

    func unprocessed() async throws -> [UInt32] {
        let (uidValidity, uids) = try await mailbox.unseen()
        validity.withLock { $0 = uidValidity }
        return uids
    }

    func fetch(uid: UInt32) async throws -> [UInt8] {
        try await mailbox.fetch(uid: uid, uidValidity: validity.withLock { $0 })
    }

    func markProcessed(uid: UInt32) async throws {
        try await mailbox.markProcessed(uid: uid, uidValidity: validity.withLock { $0 })
    }

    func close() async { await mailbox.close() }

    /// `host:port/FOLDER`, without scheme or credentials.
    static func hostAndFolder(_ s: IMAPSettings) -> String {
        let host = s.url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? "?"
        return host + "/" + s.mailbox
    }
}
