/// Polls one IMAP mailbox for the inbound processor: list what is unseen, fetch each message without marking it
/// read, then mark it processed — so a daemon killed between the steps loses nothing (the caller records a message
/// before marking it). The blocking libcurl work runs on the client's own thread (`IMAPWorker`) over one reused,
/// logged-in connection, rebuilt after an error. IDLE is not used: the caller polls at its interval.
public final class IMAPMailbox: Sendable {
    public let settings: IMAPSettings
    private let worker: IMAPWorker

    /// Connects nothing: the thread and the connection come with the first request.
    public init(settings: IMAPSettings) {
        self.settings = settings
        worker = IMAPWorker(settings: settings)
    }

    /// Tests only: act as if the server lacked MOVE (COPY, STORE \Deleted, EXPUNGE instead).
    init(settings: IMAPSettings, ignoringMove: Bool) {
        self.settings = settings
        worker = IMAPWorker(settings: settings, ignoresMove: ignoringMove)
    }

    deinit { worker.abort() }

    /// The UIDs of the messages neither seen nor processed, ascending, with the mailbox's UIDVALIDITY: a UID is
    /// only meaningful under the UIDVALIDITY it was listed with.
    public func unseen() async throws -> (uidValidity: UInt32, uids: [UInt32]) {
        try await worker.perform { try $0.unseen() }
    }

    /// The message's exact bytes (`BODY.PEEK[]`: `\Seen` stays unset until `markProcessed`). With `uidValidity`,
    /// refuses (`IMAPError.uidValidityChanged`) when the mailbox's has changed since the listing.
    public func fetch(uid: UInt32, uidValidity: UInt32? = nil) async throws -> [UInt8] {
        try await worker.perform { session in
            try session.check(uidValidity: uidValidity)
            return try session.fetch(uid: uid)
        }
    }

    /// Moves the message to `settings.processedFolder` (created when missing), or flags it `\Seen $NurtureProcessed`:
    /// either way `unseen()` no longer lists it. Marking a message already moved or flagged does nothing.
    public func markProcessed(uid: UInt32, uidValidity: UInt32? = nil) async throws {
        try await worker.perform { session in
            try session.check(uidValidity: uidValidity)
            try session.markProcessed(uid: uid)
        }
    }

    /// Lets queued requests finish, logs out and ends the thread; later requests throw `IMAPError.closed`.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            worker.stop { continuation.resume() }
        }
    }

    /// Gives up at once (the daemon's shutdown): a request waiting for the server throws `IMAPError.cancelled`.
    public func abort() {
        worker.abort()
    }
}
