/// What went wrong talking to an IMAP mailbox, sorted by what the operator does about it. No case ever carries
/// the password: texts come from libcurl's error names and the server's replies, never from the settings' secret.
public enum IMAPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The settings cannot be used (bad URL, a control character in a name): refused before any connection.
    case invalidSettings(String)
    /// The server refused the username or password.
    case authenticationFailed(String)
    /// TLS could not be set up or the server's certificate did not verify against the CA (or the system's).
    case tlsFailed(String)
    /// Nothing listens at the host and port.
    case connectionRefused(String)
    /// The host could not be reached, or the connection broke.
    case connectionFailed(String)
    /// The server did not answer within the settings' timeout.
    case timeout(String)
    /// The mailbox to poll does not exist on the server.
    case mailboxMissing(String)
    /// The message is larger than `IMAPSettings.maxMessageSize`: the caller decides (quarantine, mark processed).
    case messageTooLarge(uid: UInt32, size: Int)
    /// No message with this UID in the mailbox (expunged meanwhile).
    case messageMissing(uid: UInt32)
    /// The mailbox's UIDVALIDITY is not the one the UID was listed under: its UIDs now name other messages.
    case uidValidityChanged(expected: UInt32, found: UInt32)
    /// The server answered NO or BAD to a command.
    case commandFailed(command: String, reply: String)
    /// The server said something this client cannot follow; the connection is dropped.
    case protocolError(String)
    /// The task waiting for the operation was cancelled; the connection is dropped.
    case cancelled
    /// `close()` was called.
    case closed

    public var description: String {
        switch self {
        case .invalidSettings(let why): "invalid IMAP settings: \(why)"
        case .authenticationFailed(let why): "IMAP authentication failed: \(why)"
        case .tlsFailed(let why): "IMAP TLS failed: \(why)"
        case .connectionRefused(let why): "IMAP connection refused: \(why)"
        case .connectionFailed(let why): "IMAP connection failed: \(why)"
        case .timeout(let why): "IMAP timeout: \(why)"
        case .mailboxMissing(let name): "IMAP mailbox \(name) does not exist"
        case .messageTooLarge(let uid, let size): "IMAP message UID \(uid) is \(size) bytes, over the size limit"
        case .messageMissing(let uid): "IMAP message UID \(uid) is not in the mailbox"
        case .uidValidityChanged(let expected, let found): "IMAP UIDVALIDITY changed from \(expected) to \(found): UIDs listed before name other messages"
        case .commandFailed(let command, let reply): "IMAP \(command) failed: \(reply)"
        case .protocolError(let why): "IMAP protocol error: \(why)"
        case .cancelled: "IMAP operation cancelled"
        case .closed: "IMAP mailbox client closed"
        }
    }

    /// Errors after which the connection cannot be trusted to be in step with the server.
    var dropsConnection: Bool {
        switch self {
        case .mailboxMissing, .messageMissing, .uidValidityChanged, .commandFailed, .invalidSettings: false
        default: true
        }
    }
}
