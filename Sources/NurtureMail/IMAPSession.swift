import CCurl
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One IMAP connection, used only on its `IMAPWorker`'s thread. libcurl connects, negotiates TLS (implicit or
/// STARTTLS), verifies the certificate and logs in (`CURLOPT_CONNECT_ONLY`); the commands after the login are ours,
/// over `curl_easy_send`/`curl_easy_recv`. libcurl's own IMAP requests do not fit: its fetch sends `BODY[]`, which
/// sets `\Seen` (a message fetched, then the daemon killed before recording it, would be lost), and its custom
/// requests do not read literals (a fetched body comes back as header lines, and a body line that looks like a
/// tagged reply ends the command early).
final class IMAPSession {
    let settings: IMAPSettings
    /// Checked while waiting for the server: the caller's task was cancelled, or the client is closing.
    var shouldAbort: () -> Bool = { false }
    /// The sockets libcurl holds open while it connects, so a cancellation can cut its wait for the server short.
    var connecting: ConnectingSocket?
    /// Tests only: behave as if the server had no MOVE, to exercise COPY + STORE + EXPUNGE on a server that has it.
    var ignoresMove = false

    private var handle: UnsafeMutableRawPointer?
    private var socket: curl_socket_t = -1
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)
    private var tag = 0
    private var capabilities: Set<String> = []
    /// Of the selected mailbox; nil until it is selected on this connection.
    private var uidValidity: UInt32?
    /// PERMANENTFLAGS has `\*`: the processed keyword can be stored.
    private var keywordsAllowed = false

    private static let global: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(settings: IMAPSettings) {
        _ = Self.global
        self.settings = settings
    }

    deinit { drop() }

    var isConnected: Bool { handle != nil }

    /// Runs `body` on a logged-in connection with the mailbox selected, reconnecting first when needed. A reused
    /// connection that turns out dead (the server's idle logout) is replaced once: every operation is idempotent.
    func perform<T>(_ body: (IMAPSession) throws -> T) throws -> T {
        let reused = handle != nil
        do {
            try ensureSelected()
            return try body(self)
        } catch let error as IMAPError {
            if error.dropsConnection { drop() }
            guard reused, case .connectionFailed = error else { throw error }
        }
        do {
            try ensureSelected()
            return try body(self)
        } catch let error as IMAPError {
            if error.dropsConnection { drop() }
            throw error
        }
    }

    // MARK: Operations

    /// UIDs of the messages not yet seen nor processed, oldest first, with the mailbox's UIDVALIDITY.
    func unseen() throws -> (uidValidity: UInt32, uids: [UInt32]) {
        guard let validity = uidValidity else { throw IMAPError.protocolError("no UIDVALIDITY for the selected mailbox") }
        let keyword = keywordsAllowed ? " UNKEYWORD \(IMAPSettings.processedKeyword)" : ""
        // Dovecot (and RFC 3501 §6.4.1's NOOP) looks for new mail at NOOP; SEARCH alone runs on its last view.
        try command("NOOP", name: "NOOP")
        let responses = try command("UID SEARCH UNSEEN UNDELETED\(keyword)", name: "UID SEARCH")
        var uids: [UInt32] = []
        for response in responses {
            let words = response.text.split(separator: " ")
            guard words.count >= 2, words[0] == "*", words[1].uppercased() == "SEARCH" else { continue }
            for word in words.dropFirst(2) {
                guard let uid = UInt32(word) else { throw IMAPError.protocolError("unexpected SEARCH reply \(response.text.prefix(200))") }
                uids.append(uid)
            }
        }
        return (validity, uids.sorted())
    }

    /// The message's bytes, exactly as stored, read with `BODY.PEEK[]` so that `\Seen` stays unset.
    func fetch(uid: UInt32) throws -> [UInt8] {
        let responses: [IMAPResponse]
        do {
            responses = try command("UID FETCH \(uid) BODY.PEEK[]", name: "UID FETCH", maxLiteral: settings.maxMessageSize)
        } catch let tooLarge as LiteralTooLarge {
            drop() // the literal was not read: the connection is out of step
            throw IMAPError.messageTooLarge(uid: uid, size: tooLarge.size)
        }
        for response in responses where response.fetchUID == uid {
            if let body = response.literal(after: "BODY[]") { return body }
        }
        throw IMAPError.messageMissing(uid: uid)
    }

    /// Moves the message to the processed folder (created when missing), or flags it `\Seen $NurtureProcessed`.
    func markProcessed(uid: UInt32) throws {
        guard let folder = settings.processedFolder else {
            let keyword = keywordsAllowed ? " \(IMAPSettings.processedKeyword)" : ""
            try command("UID STORE \(uid) +FLAGS.SILENT (\\Seen\(keyword))", name: "UID STORE")
            return
        }
        let target = IMAPQuoting.mailbox(folder)
        if capabilities.contains("MOVE") && !ignoresMove {
            try creatingFolderOnDemand { try command("UID MOVE \(uid) \(target)", name: "UID MOVE") }
        } else {
            try creatingFolderOnDemand { try command("UID COPY \(uid) \(target)", name: "UID COPY") }
            try command("UID STORE \(uid) +FLAGS.SILENT (\\Deleted)", name: "UID STORE")
            // Without UIDPLUS, EXPUNGE also removes other messages someone flagged \Deleted in this mailbox.
            if capabilities.contains("UIDPLUS") {
                try command("UID EXPUNGE \(uid)", name: "UID EXPUNGE")
            } else {
                try command("EXPUNGE", name: "EXPUNGE")
            }
        }
    }

    /// Refuses to act on a UID from an earlier listing when the mailbox's UIDVALIDITY has changed since: the same
    /// number may now name another message.
    func check(uidValidity expected: UInt32?) throws {
        guard let expected, let uidValidity, uidValidity != expected else { return }
        throw IMAPError.uidValidityChanged(expected: expected, found: uidValidity)
    }

    /// Logs out politely, waiting at most two seconds for the server's goodbye, and forgets the connection
    /// (libcurl sends no LOGOUT for a connection it only connected).
    func close() {
        guard handle != nil else { return }
        waitLimit = min(2, settings.timeout)
        defer { waitLimit = nil }
        do { try command("LOGOUT", name: "LOGOUT") } catch { /* the goodbye is a courtesy: the connection ends anyway */ }
        drop()
    }

    /// A shorter bound than the settings' timeout on each wait, while logging out.
    private var waitLimit: TimeInterval?

    /// Cuts the connection without a goodbye: after an error it cannot be trusted to be in step.
    func drop() {
        guard let h = handle else { return }
        handle = nil
        if socket >= 0 { _ = shutdown(socket, Int32(SHUT_RDWR)) }
        curl_easy_cleanup(h)
        reset()
    }

    private func reset() {
        socket = -1
        buffer = []
        start = 0
        capabilities = []
        uidValidity = nil
        keywordsAllowed = false
    }

    // MARK: Connection

    private func ensureSelected() throws {
        if handle == nil { try connect() }
        if uidValidity == nil { try select() }
    }

    private func connect() throws {
        guard let h = curl_easy_init() else { throw IMAPError.connectionFailed("curl_easy_init failed") }
        _ = nurture_easy_setopt_string(h, CURLOPT_URL, settings.serverURL)
        _ = nurture_easy_setopt_long(h, CURLOPT_CONNECT_ONLY, 1)
        _ = nurture_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        let timeoutMS = Int(min(settings.timeout, 86_400) * 1000)
        _ = nurture_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, timeoutMS)
        _ = nurture_easy_setopt_long(h, CURLOPT_TIMEOUT_MS, timeoutMS)
        _ = nurture_easy_setopt_long(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, max(1, Int(settings.timeout.rounded(.up))))
        if !settings.isImplicitTLS {
            let level = switch settings.startTLS {
            case .required: CURLUSESSL_ALL
            case .opportunistic: CURLUSESSL_TRY
            case .off: CURLUSESSL_NONE
            }
            _ = nurture_easy_setopt_long(h, CURLOPT_USE_SSL, Int(level.rawValue))
        }
        _ = nurture_easy_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        _ = nurture_easy_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        if let ca = settings.caFile { _ = nurture_easy_setopt_string(h, CURLOPT_CAINFO, ca) }
        _ = nurture_easy_setopt_string(h, CURLOPT_USERNAME, settings.username)
        _ = nurture_easy_setopt_string(h, CURLOPT_PASSWORD, settings.password)
        // libcurl calls this while it connects and logs in: the only way to cut that wait short on a cancellation.
        _ = nurture_easy_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = nurture_easy_setopt_pointer(h, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(self).toOpaque())
        _ = nurture_easy_setopt_xferinfo_callback(h) { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            return Unmanaged<IMAPSession>.fromOpaque(userdata).takeUnretainedValue().shouldAbort() ? 1 : 0
        }
        // libcurl does not call the progress callback while it waits for the greeting: a cancellation shuts the
        // socket down instead (the wait then ends at once, and the abort flag says why).
        if connecting != nil {
            _ = nurture_easy_setopt_pointer(h, CURLOPT_SOCKOPTDATA, Unmanaged.passUnretained(self).toOpaque())
            _ = nurture_easy_setopt_sockopt_callback(h) { userdata, fd, _ in
                if let userdata { Unmanaged<IMAPSession>.fromOpaque(userdata).takeUnretainedValue().connecting?.opened(fd) }
                return 0 // CURL_SOCKOPT_OK
            }
            _ = nurture_easy_setopt_pointer(h, CURLOPT_CLOSESOCKETDATA, Unmanaged.passUnretained(self).toOpaque())
            _ = nurture_easy_setopt_closesocket_callback(h) { userdata, fd in
                if let userdata { Unmanaged<IMAPSession>.fromOpaque(userdata).takeUnretainedValue().connecting?.closing(fd) }
                return Glibc.close(fd)
            }
        }
        var errorText = [CChar](repeating: 0, count: 256)
        let code = errorText.withUnsafeMutableBufferPointer { text -> CURLcode in
            _ = nurture_easy_setopt_pointer(h, CURLOPT_ERRORBUFFER, text.baseAddress)
            defer { _ = nurture_easy_setopt_pointer(h, CURLOPT_ERRORBUFFER, nil) }
            defer { connecting?.connected() } // from here the waits are ours, and check the abort flag
            return curl_easy_perform(h)
        }
        // The password is wiped from the handle's copy of the options: it is not needed once logged in.
        _ = nurture_easy_setopt_string(h, CURLOPT_PASSWORD, "")
        guard code == CURLE_OK else {
            curl_easy_cleanup(h)
            if code == CURLE_ABORTED_BY_CALLBACK || shouldAbort() { throw IMAPError.cancelled }
            throw Self.error(code, detail: errorText.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        var s: curl_socket_t = -1
        guard nurture_easy_getinfo_socket(h, CURLINFO_ACTIVESOCKET, &s) == CURLE_OK, s >= 0 else {
            curl_easy_cleanup(h)
            throw IMAPError.connectionFailed("no socket after login")
        }
        handle = h
        socket = s
        for response in try command("CAPABILITY", name: "CAPABILITY") {
            let words = response.text.uppercased().split(separator: " ")
            if words.count >= 2, words[0] == "*", words[1] == "CAPABILITY" { capabilities.formUnion(words.dropFirst(2).map(String.init)) }
        }
    }

    private func select() throws {
        let responses: [IMAPResponse]
        do {
            responses = try command("SELECT \(IMAPQuoting.mailbox(settings.mailbox))", name: "SELECT")
        } catch IMAPError.commandFailed(_, let reply) {
            let upper = reply.uppercased()
            if upper.contains("NONEXISTENT") || upper.contains("EXIST") || upper.contains("NO SUCH") || upper.contains("UNKNOWN MAILBOX") {
                throw IMAPError.mailboxMissing(settings.mailbox)
            }
            throw IMAPError.commandFailed(command: "SELECT", reply: reply)
        }
        var validity: UInt32?
        for response in responses {
            if let value = response.code("UIDVALIDITY") { validity = UInt32(value) }
            if let flags = response.code("PERMANENTFLAGS") { keywordsAllowed = flags.contains("\\*") }
        }
        guard let validity else { throw IMAPError.protocolError("SELECT gave no UIDVALIDITY") }
        uidValidity = validity
    }

    /// Retries once after creating the folder when the server refuses a COPY or MOVE into it (`[TRYCREATE]`, or a
    /// server that does not say why).
    private func creatingFolderOnDemand(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch IMAPError.commandFailed(let name, let reply) {
            guard let folder = settings.processedFolder else { throw IMAPError.commandFailed(command: name, reply: reply) }
            do {
                try command("CREATE \(IMAPQuoting.mailbox(folder))", name: "CREATE")
            } catch IMAPError.commandFailed(_, let createReply) where createReply.uppercased().contains("ALREADYEXISTS") {
                throw IMAPError.commandFailed(command: name, reply: reply) // the folder was there: the first error stands
            }
            try body()
        }
    }

    // MARK: Protocol

    /// Error raised by the reader when a literal is over the caller's bound (the literal is left unread).
    struct LiteralTooLarge: Error {
        let size: Int
    }

    /// Sends one tagged command and returns the untagged responses before its tagged OK; NO and BAD throw.
    @discardableResult
    private func command(_ text: String, name: String, maxLiteral: Int = 1 << 20) throws -> [IMAPResponse] {
        guard handle != nil else { throw IMAPError.connectionFailed("not connected") }
        tag += 1
        let label = "N\(tag)"
        try send(Array("\(label) \(text)\r\n".utf8))
        var untagged: [IMAPResponse] = []
        while true {
            let response = try readResponse(maxLiteral: maxLiteral)
            let first = response.segments[0]
            if first.hasPrefix(label + " ") {
                let status = first.dropFirst(label.count + 1)
                let word = status.prefix(while: { $0 != " " }).uppercased()
                if word == "OK" { return untagged }
                if word == "NO" || word == "BAD" { throw IMAPError.commandFailed(command: name, reply: String(status.prefix(300))) }
                throw IMAPError.protocolError("unexpected reply to \(name): \(first.prefix(200))")
            }
            if first.hasPrefix("* ") {
                if first.uppercased().hasPrefix("* BYE") { byeText = String(first.prefix(300)) }
                untagged.append(response)
                continue
            }
            if first.hasPrefix("+") { throw IMAPError.protocolError("unexpected continuation request after \(name)") }
            throw IMAPError.protocolError("unexpected line after \(name): \(first.prefix(200))")
        }
    }

    /// What the server said when it announced it would close, for the error when it does.
    private var byeText: String?

    private func readResponse(maxLiteral: Int) throws -> IMAPResponse {
        var response = IMAPResponse(segments: [], literals: [])
        while true {
            let line = try readLine()
            response.segments.append(line)
            guard let size = IMAPResponse.literalSize(line) else { return response }
            guard size <= maxLiteral else { throw LiteralTooLarge(size: size) }
            response.literals.append(try readBytes(size))
        }
    }

    /// One line without its CRLF. Server lines (literals aside) are short: a line over 1 MB is a broken server.
    private func readLine() throws -> String {
        var scanned = start
        while true {
            if let lf = buffer[scanned...].firstIndex(of: 0x0A) {
                var end = lf
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = lf + 1
                return line
            }
            scanned = buffer.count
            guard buffer.count - start < 1 << 20 else { throw IMAPError.protocolError("a reply line longer than 1 MB") }
            let offset = scanned - start
            try fill()
            scanned = start + offset
        }
    }

    private func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count { try fill() }
        let bytes = Array(buffer[start..<start + count])
        start += count
        return bytes
    }

    /// Reads what the server sent next, waiting up to the timeout in short slices (to notice a cancellation).
    private func fill() throws {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 1 << 20 {
            buffer.removeFirst(start)
            start = 0
        }
        let deadline = Date().addingTimeInterval(waitLimit ?? settings.timeout)
        while true {
            if shouldAbort() { throw IMAPError.cancelled }
            var received = 0
            let code = chunk.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress, $0.count, &received) }
            if code == CURLE_OK {
                guard received > 0 else {
                    throw IMAPError.connectionFailed(byeText.map { "the server closed the connection (\($0))" } ?? "the server closed the connection")
                }
                buffer.append(contentsOf: chunk[0..<received])
                return
            }
            guard code == CURLE_AGAIN else { throw IMAPError.connectionFailed(Self.name(code)) }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw IMAPError.timeout("no reply from the server within \(Self.seconds(settings.timeout))") }
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            _ = poll(&descriptor, 1, Int32(min(left, 0.25) * 1000) + 1)
        }
    }

    private func send(_ bytes: [UInt8]) throws {
        var offset = 0
        let deadline = Date().addingTimeInterval(waitLimit ?? settings.timeout)
        while offset < bytes.count {
            if shouldAbort() { throw IMAPError.cancelled }
            var sent = 0
            let code = bytes.withUnsafeBytes { curl_easy_send(handle, $0.baseAddress! + offset, $0.count - offset, &sent) }
            if code == CURLE_OK {
                offset += sent
                continue
            }
            guard code == CURLE_AGAIN else { throw IMAPError.connectionFailed(Self.name(code)) }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { throw IMAPError.timeout("the server did not accept a command within \(Self.seconds(settings.timeout))") }
            var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            _ = poll(&descriptor, 1, Int32(min(left, 0.25) * 1000) + 1)
        }
    }

    // MARK: Errors

    private static func name(_ code: CURLcode) -> String {
        "curl error \(code.rawValue): \(String(cString: curl_easy_strerror(code)))"
    }

    private static func seconds(_ t: TimeInterval) -> String {
        t == t.rounded() ? "\(Int(t)) s" : "\(t) s"
    }

    /// Sorts libcurl's failure to connect and log in into what the operator does about it.
    static func error(_ code: CURLcode, detail: String) -> IMAPError {
        let text = detail.isEmpty ? name(code) : "\(name(code)) (\(detail))"
        switch code {
        case CURLE_LOGIN_DENIED: return .authenticationFailed(text)
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE, CURLE_USE_SSL_FAILED,
             CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR:
            return .tlsFailed(text)
        case CURLE_COULDNT_CONNECT:
            return detail.lowercased().contains("timed out") ? .timeout(text) : .connectionRefused(text)
        case CURLE_OPERATION_TIMEDOUT: return .timeout(text)
        default: return .connectionFailed(text)
        }
    }
}
