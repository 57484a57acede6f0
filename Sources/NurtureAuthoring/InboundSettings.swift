import Foundation
import NurtureCore
import Yams

/// `inbound:` in the config: the rules for what comes back (bounces, complaints, replies), the limits that keep a
/// hostile message from filling the disk, and the IMAP mailboxes the daemon polls.
public struct InboundSettings: Sendable, Hashable {
    public var policy = InboundPolicy()
    /// Larger messages are not read: kept aside with their headers only (Postfix's default `message_size_limit` is 10 MB).
    public var maxMessageSize = 25 * 1_048_576
    /// Bytes of kept-aside messages stored in all; beyond, the oldest copies are dropped (their rows and reasons stay).
    public var quarantineLimit = 64 * 1_048_576
    public var pollInterval = TimeSpan(seconds: 60)
    public var mailboxes: [Mailbox] = []

    public init() {}

    /// One IMAP mailbox: where bounces, feedback reports or replies arrive.
    public struct Mailbox: Sendable, Hashable {
        /// `imaps://host[:port]/FOLDER` (TLS from the first byte) or `imap://host[:port]/FOLDER` (STARTTLS).
        public var url: String
        public var username: String
        /// The password's file (a systemd credential under `$CREDENTIALS_DIRECTORY`); never in the config.
        public var passwordFile: String
        /// A private CA to verify the server with, instead of the system's.
        public var caFile: String?
        /// For imap:// URLs: `required` (default) or `off` (loopback test servers only).
        public var startTLS = "required"
        /// Processed messages move there (created when missing); nil flags them `\Seen` in place.
        public var processedFolder: String?
    }

    static let keys = ["soft_bounce_limit", "out_of_office_postpone", "forward_replies", "max_message_size", "quarantine_limit",
                       "poll_interval", "mailboxes"]

    static func read(_ node: Node, reader r: NodeReader, secrets: String) -> InboundSettings {
        var s = InboundSettings()
        guard let m = r.mapping(node, "'inbound'", allowed: keys) else { return s }
        if let n = m["soft_bounce_limit"]?.value, let v = r.int(n, "'inbound.soft_bounce_limit'", range: 1...100) { s.policy.softBounceLimit = v }
        if let n = m["out_of_office_postpone"]?.value {
            if n.scalar?.string == "none" { s.policy.outOfOfficePostpone = nil } else if let v = r.timeSpan(n, "'inbound.out_of_office_postpone'") {
                s.policy.outOfOfficePostpone = v.seconds == 0 ? nil : v
            }
        }
        if let n = m["forward_replies"]?.value, let v = r.bool(n, "'inbound.forward_replies'") { s.policy.forwardReplies = v }
        if let n = m["max_message_size"]?.value, let v = size(n, "'inbound.max_message_size'", reader: r) {
            if v < 65_536 { r.error(n, "'inbound.max_message_size' must be at least 64KB") } else { s.maxMessageSize = v }
        }
        if let n = m["quarantine_limit"]?.value, let v = size(n, "'inbound.quarantine_limit'", reader: r) { s.quarantineLimit = v }
        if let n = m["poll_interval"]?.value, let v = r.timeSpan(n, "'inbound.poll_interval'") {
            if v.seconds < 1 { r.error(n, "'inbound.poll_interval' must be at least 1s") } else { s.pollInterval = v }
        }
        if let n = m["mailboxes"]?.value, let items = r.list(n, "'inbound.mailboxes'") {
            s.mailboxes = items.compactMap { mailbox($0, reader: r, secrets: secrets) }
        }
        return s
    }

    static func mailbox(_ node: Node, reader r: NodeReader, secrets: String) -> Mailbox? {
        guard let m = r.mapping(node, "a mailbox", allowed: ["url", "username", "password_file", "ca_file", "starttls", "processed_folder"],
                                required: ["url", "username", "password_file"]),
              let urlNode = m["url"]?.value, let url = r.singleLine(urlNode, "'url'"),
              let userNode = m["username"]?.value, let username = r.singleLine(userNode, "'username'"),
              let passNode = m["password_file"]?.value, let password = r.singleLine(passNode, "'password_file'") else { return nil }
        var ok = true
        let parsed = URL(string: url)
        if parsed == nil || !["imap", "imaps"].contains(parsed?.scheme ?? "") || (parsed?.host ?? "").isEmpty || parsed?.user != nil {
            r.error(urlNode, "a mailbox 'url' must read like imaps://imap.example.com/INBOX (no credentials in it)")
            ok = false
        }
        if username.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } ?? false }) || username.isEmpty {
            r.error(userNode, "'username' must be one line of printable characters")
            ok = false
        }
        var box = Mailbox(url: url, username: username, passwordFile: ConfigLoader.resolve(password, against: secrets))
        if let n = m["ca_file"]?.value, let v = r.singleLine(n, "'ca_file'") { box.caFile = ConfigLoader.resolve(v, against: secrets) }
        if let n = m["starttls"]?.value, let v = r.singleLine(n, "'starttls'") {
            if ["required", "off"].contains(v) { box.startTLS = v } else { r.error(n, "'starttls' must be 'required' or 'off'"); ok = false }
        }
        if let n = m["processed_folder"]?.value, let v = r.singleLine(n, "'processed_folder'") {
            if v.isEmpty || v.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\"" || $0 == "\\" }) {
                r.error(n, "'processed_folder' must be a folder name without quotes, backslashes or control characters")
                ok = false
            } else {
                box.processedFolder = v
            }
        }
        return ok ? box : nil
    }

    /// `25MB`, `512KB`, `1GB`, or a number of bytes.
    static func size(_ node: Node, _ what: String, reader r: NodeReader) -> Int? {
        guard let text = r.singleLine(node, what) else { return nil }
        let units: [(String, Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]
        let upper = text.uppercased().replacingOccurrences(of: "IB", with: "B").trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where upper.hasSuffix(suffix) {
            if let n = Int(upper.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0, n <= (1 << 40) / factor { return n * factor }
            break
        }
        if let n = Int(upper), n >= 0 { return n }
        r.error(node, "\(what) must be a size such as 25MB, 512KB or 1GB")
        return nil
    }
}
