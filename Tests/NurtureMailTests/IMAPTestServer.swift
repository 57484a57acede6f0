import Foundation
@testable import NurtureMail
import Testing

/// The Dovecot server the IMAP tests use: `scripts/dovecot-test-server.sh start` (run by `.ci/run`) exports its
/// URLs, user, password file, CA and Maildir. Each test polls a folder of its own, made here in the Maildir.
enum IMAPTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static var maildir: String? { environment["NURTURE_IMAP_TEST_MAILDIR"].flatMap { $0.isEmpty ? nil : $0 } }
    static var isAvailable: Bool { maildir != nil }
    /// CI must run the IMAP tests: there, a missing server is a failure, never a skip.
    static var isCI: Bool { environment["CI"] == "true" }
    static let skipReason: Comment = "NURTURE_IMAP_TEST_MAILDIR is unset: IMAP tests skipped (eval \"$(scripts/dovecot-test-server.sh start)\")"

    static var imapsURL: String { environment["NURTURE_IMAP_TEST_IMAPS_URL"] ?? "" }
    static var imapURL: String { environment["NURTURE_IMAP_TEST_IMAP_URL"] ?? "" }
    static var user: String { environment["NURTURE_IMAP_TEST_USER"] ?? "" }
    static var caFile: String { environment["NURTURE_IMAP_TEST_CA_FILE"] ?? "" }
    static var otherCAFile: String { environment["NURTURE_IMAP_TEST_OTHER_CA_FILE"] ?? "" }
    static var password: String {
        (environment["NURTURE_IMAP_TEST_PASSWORD_FILE"].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) } ?? "")
            .trimmingCharacters(in: .newlines)
    }

    /// A new, empty folder (Maildir++ `.NAME`) named for the test, writable by the server whoever runs it.
    static func newFolder(_ label: String = "t") throws -> String {
        let name = "\(label)-\(UUID().uuidString.prefix(8).lowercased())"
        let root = "\(maildir!)/.\(name)"
        for sub in ["", "/cur", "/new", "/tmp"] {
            try FileManager.default.createDirectory(atPath: root + sub, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o777])
            chmod(root + sub, 0o777)
        }
        FileManager.default.createFile(atPath: root + "/maildirfolder", contents: nil, attributes: [.posixPermissions: 0o666])
        return name
    }

    /// The folder's Maildir directory ("INBOX" is the Maildir's root).
    static func directory(_ folder: String) -> String {
        folder == "INBOX" ? maildir! : "\(maildir!)/.\(IMAPQuoting.modifiedUTF7(folder))"
    }

    /// Delivers a message as an MTA would: written under `tmp/`, then renamed into `new/` (never seen half-written).
    @discardableResult
    static func place(_ message: [UInt8], in folder: String) throws -> String {
        let name = "\(Int(Date().timeIntervalSince1970)).\(UUID().uuidString.lowercased()).nurture-test"
        let dir = directory(folder)
        let temporary = "\(dir)/tmp/\(name)"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(message), attributes: [.posixPermissions: 0o666]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        guard rename(temporary, "\(dir)/new/\(name)") == 0 else { throw CocoaError(.fileWriteUnknown) }
        return name
    }

    /// Places the messages one by one, listing the folder after each so the server numbers them in that order
    /// (it numbers new files in directory order, not by name); returns their files and UIDs.
    static func placeInOrder(_ messages: [[UInt8]], in folder: String, seenBy mailbox: IMAPMailbox) async throws -> [(file: String, uid: UInt32)] {
        var placed: [(file: String, uid: UInt32)] = []
        for message in messages {
            let file = try place(message, in: folder)
            let uids = try await mailbox.unseen().uids
            guard let uid = uids.last, !placed.contains(where: { $0.uid == uid }) else { throw CocoaError(.fileReadUnknown) }
            placed.append((file, uid))
        }
        return placed
    }

    /// The Maildir flags of a placed message (`S` is \Seen), read from its file name: the server's own record.
    static func flags(of name: String, in folder: String) throws -> String? {
        let dir = directory(folder)
        if FileManager.default.fileExists(atPath: "\(dir)/new/\(name)") { return "" }
        for file in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/cur") where file.hasPrefix(name + ":") {
            return file.components(separatedBy: ":2,").last ?? ""
        }
        return nil
    }

    /// The contents of every message file in the folder.
    static func messages(in folder: String) throws -> [[UInt8]] {
        let dir = directory(folder)
        var found: [[UInt8]] = []
        for sub in ["new", "cur"] {
            for file in try FileManager.default.contentsOfDirectory(atPath: "\(dir)/\(sub)") {
                found.append(Array(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(sub)/\(file)"))))
            }
        }
        return found
    }

    static func settings(folder: String, secure implicit: Bool = true, password: String? = nil, caFile: String? = nil,
                         processedFolder: String? = nil, timeout: TimeInterval = 10, maxMessageSize: Int = 64 << 20) throws -> IMAPSettings {
        let base = implicit ? imapsURL : imapURL
        let path = folder.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ";?#%"))) ?? folder
        return try IMAPSettings(url: "\(base)/\(path)", username: user, password: password ?? self.password, startTLS: .required,
                                caFile: caFile ?? self.caFile, processedFolder: processedFolder, timeout: timeout,
                                maxMessageSize: maxMessageSize)
    }

    /// A small RFC 5322 message whose body holds lines that look like IMAP replies (they must stay body).
    static func message(_ n: Int, bodyBytes: Int = 0) -> [UInt8] {
        var text = "From: Reply \(n) <reply\(n)@example.net>\r\nTo: bounces@nurture.example\r\nSubject: message \(n)\r\n"
        text += "Message-ID: <m\(n)@example.net>\r\n\r\nHello \(n)\r\nN1 OK done\r\n* 9 FETCH (UID 9 BODY[] {3}\r\n)\r\n"
        var bytes = Array(text.utf8)
        if bodyBytes > 0 {
            let line = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef\r\n".utf8)
            while bytes.count < bodyBytes { bytes += line }
        }
        return bytes
    }
}
