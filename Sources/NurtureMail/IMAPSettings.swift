import Foundation

/// How to reach one IMAP mailbox to poll. The password comes from a secret file read by the caller, never from the
/// config, and never appears in an error or a log. Every field is checked here, before any connection: a CR or LF
/// in a folder or user name would otherwise become a second IMAP command.
public struct IMAPSettings: Sendable, Hashable {
    public enum StartTLS: String, Sendable, Hashable, CaseIterable {
        /// For `imap://`: refuse to log in unless STARTTLS succeeded (the default).
        case required
        /// For `imap://`: encrypt when the server offers STARTTLS, log in in clear otherwise.
        case opportunistic
        /// For `imap://`: never encrypt (a server on loopback).
        case off
    }

    /// `imaps://host[:port]/MAILBOX` (implicit TLS) or `imap://host[:port]/MAILBOX`; the mailbox is percent-encoded
    /// (RFC 5092) and defaults to INBOX.
    public let url: String
    public let username: String
    public let password: String
    /// Ignored for `imaps://`, whose TLS is implicit.
    public let startTLS: StartTLS
    /// A CA bundle to trust instead of the system's (a private server's certificate). Verification is always on.
    public let caFile: String?
    /// nil: a processed message is flagged `\Seen $NurtureProcessed` and stays; set: it is moved to this folder,
    /// which is created when missing.
    public let processedFolder: String?
    /// Bound on connecting and on each wait for the server.
    public let timeout: TimeInterval
    /// A larger message is refused by `fetch(uid:)` with `IMAPError.messageTooLarge`, before it is read.
    public let maxMessageSize: Int

    /// `imap://host:port` or `imaps://host:port`: what libcurl connects to (the mailbox is selected by the client).
    let serverURL: String
    /// The mailbox named by the URL, decoded.
    public let mailbox: String
    var isImplicitTLS: Bool { serverURL.hasPrefix("imaps://") }

    /// The keyword that marks a message processed when there is no processed folder.
    public static let processedKeyword = "$NurtureProcessed"

    public init(url: String, username: String, password: String, startTLS: StartTLS = .required, caFile: String? = nil,
                processedFolder: String? = nil, timeout: TimeInterval = 30, maxMessageSize: Int = 64 << 20) throws {
        let (server, mailbox) = try Self.parse(url)
        try Self.check("username", username)
        guard !username.isEmpty else { throw IMAPError.invalidSettings("the username is empty") }
        // The password's text is never repeated: only what is wrong with it.
        if password.unicodeScalars.contains(where: Self.isControl) {
            throw IMAPError.invalidSettings("the password contains a control character (a line break left in the secret file?)")
        }
        guard !password.isEmpty else { throw IMAPError.invalidSettings("the password is empty") }
        if let caFile {
            try Self.check("caFile", caFile)
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw IMAPError.invalidSettings("caFile \(caFile) cannot be read")
            }
        }
        if let processedFolder {
            try Self.checkMailboxName("processedFolder", processedFolder)
            if processedFolder.caseInsensitiveCompare(mailbox) == .orderedSame {
                throw IMAPError.invalidSettings("processedFolder is the polled mailbox \(mailbox)")
            }
        }
        guard timeout > 0, timeout.isFinite else { throw IMAPError.invalidSettings("timeout must be a positive number of seconds") }
        guard maxMessageSize > 0 else { throw IMAPError.invalidSettings("maxMessageSize must be positive") }
        self.url = url
        self.serverURL = server
        self.mailbox = mailbox
        self.username = username
        self.password = password
        self.startTLS = startTLS
        self.caFile = caFile
        self.processedFolder = processedFolder
        self.timeout = timeout
        self.maxMessageSize = maxMessageSize
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
    }

    private static func check(_ field: String, _ value: String) throws {
        if value.unicodeScalars.contains(where: isControl) {
            throw IMAPError.invalidSettings("\(field) contains a control character (CR, LF, tab or another)")
        }
    }

    /// Mailbox names go into commands as quoted strings: control characters are refused, `*` and `%` (LIST
    /// wildcards) too, so the name means one folder.
    private static func checkMailboxName(_ field: String, _ name: String) throws {
        try check(field, name)
        guard !name.isEmpty else { throw IMAPError.invalidSettings("\(field) is empty") }
        if name.contains(where: { $0 == "*" || $0 == "%" }) {
            throw IMAPError.invalidSettings("\(field) \(name) contains a wildcard (* or %)")
        }
        guard name.utf8.count <= 512 else { throw IMAPError.invalidSettings("\(field) is longer than 512 bytes") }
    }

    /// Splits `scheme://host[:port]/mailbox` into the server URL and the decoded mailbox name.
    static func parse(_ url: String) throws -> (server: String, mailbox: String) {
        try check("url", url)
        let scheme: String
        if url.lowercased().hasPrefix("imaps://") { scheme = "imaps" } else if url.lowercased().hasPrefix("imap://") { scheme = "imap" } else {
            throw IMAPError.invalidSettings("url \(url) must start with imap:// or imaps://")
        }
        let rest = url.dropFirst(scheme.count + 3)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        guard !authority.isEmpty else { throw IMAPError.invalidSettings("url \(url) has no host") }
        if authority.contains("@") {
            throw IMAPError.invalidSettings("url must not carry a user or password (use username and the password file)")
        }
        if authority.contains(where: { $0 == "?" || $0 == "#" || $0 == " " || $0 == ";" }) {
            throw IMAPError.invalidSettings("url \(url) has an invalid host")
        }
        var path = slash < rest.endIndex ? String(rest[rest.index(after: slash)...]) : ""
        if path.hasSuffix("/") { path.removeLast() }
        if path.contains(where: { $0 == "?" || $0 == "#" || $0 == ";" }) {
            throw IMAPError.invalidSettings("url \(url): only a mailbox may follow the host (no ;UID=, ?search or #)")
        }
        guard let mailbox = path.isEmpty ? "INBOX" : path.removingPercentEncoding else {
            throw IMAPError.invalidSettings("url \(url) has an invalid percent-encoding in its mailbox")
        }
        try checkMailboxName("the url's mailbox", mailbox)
        return ("\(scheme)://\(authority)", mailbox)
    }
}

/// Printed, dumped or interpolated into a log line, the settings never show the password.
extension IMAPSettings: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "IMAPSettings(url: \(url), username: \(username), password: <redacted>, startTLS: \(startTLS.rawValue), "
            + "caFile: \(caFile ?? "system"), processedFolder: \(processedFolder ?? "none (flag \(Self.processedKeyword))"), timeout: \(timeout))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["url": url, "username": username, "password": "<redacted>", "startTLS": startTLS,
                                "caFile": caFile as Any, "processedFolder": processedFolder as Any, "timeout": timeout,
                                "maxMessageSize": maxMessageSize])
    }
}
