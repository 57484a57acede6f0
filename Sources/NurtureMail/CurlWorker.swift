import CCurl
import Foundation
import Synchronization

/// The threads that own every libcurl handle: lanes (one per core at most, each with its own thread, multi handle
/// and share of the connections) stream the submitted groups in order. One event loop alone spent half its time
/// waiting for the server in turn; two in parallel keep both cores busy. Made by `SMTPTransport.run()` only.
final class CurlWorker: Sendable {
    private let lanes: [CurlLane]
    private static let global: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(settings: SMTPSettings, progress: @escaping @Sendable () -> Void) {
        _ = Self.global
        let width = max(1, settings.connections)
        let count = min(width, max(1, ProcessInfo.processInfo.activeProcessorCount))
        lanes = (0..<count).map { lane in
            CurlLane(handles: stride(from: lane, to: width, by: count).map { _ in Self.makeEasyHandle(settings) }, number: lane,
                     progress: progress)
        }
    }

    /// Starts the lanes' threads; `stopped` is called once, when the last has released its handles and ends.
    func start(stopped: @escaping @Sendable () -> Void) {
        let left = Countdown(lanes.count)
        for lane in lanes { lane.start { if left.tick() { stopped() } } }
    }

    /// Queues the group on every lane, behind the groups already there.
    func submit(_ group: TransferGroup) {
        group.expect(lanes: lanes.count)
        for lane in lanes { lane.submit(group) }
    }

    /// Nothing new starts; transfers in flight are given up; the threads end.
    func stop() {
        for lane in lanes { lane.stop() }
    }

    /// Options that stay the same for every message on a handle (and so on its connection).
    static func makeEasyHandle(_ settings: SMTPSettings) -> UnsafeMutableRawPointer {
        guard let h = curl_easy_init() else { fatalError("curl_easy_init failed") }
        let url = settings.url.hasSuffix("/") ? settings.url + settings.heloName : settings.url + "/" + settings.heloName
        _ = nurture_easy_setopt_string(h, CURLOPT_URL, url)
        _ = nurture_easy_setopt_long(h, CURLOPT_UPLOAD, 1)
        _ = nurture_easy_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        _ = nurture_easy_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(settings.connectTimeout * 1000))
        _ = nurture_easy_setopt_long(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, Int(settings.responseTimeout))
        // A stalled transfer (under 1 byte/s for the response timeout) is abandoned and retried later.
        _ = nurture_easy_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
        _ = nurture_easy_setopt_long(h, CURLOPT_LOW_SPEED_TIME, Int(settings.responseTimeout))
        switch settings.startTLS {
        case .required: _ = nurture_easy_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        case .opportunistic: _ = nurture_easy_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        case .off: _ = nurture_easy_setopt_long(h, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue))
        }
        if let ca = settings.caFile { _ = nurture_easy_setopt_string(h, CURLOPT_CAINFO, ca) }
        if let user = settings.username { _ = nurture_easy_setopt_string(h, CURLOPT_USERNAME, user) }
        if let password = settings.password { _ = nurture_easy_setopt_string(h, CURLOPT_PASSWORD, password) }
        _ = nurture_easy_setopt_read_callback(h) { buffer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let n = min(size * count, transfer.data.count - transfer.offset)
            guard n > 0, let buffer else { return 0 }
            transfer.data.withUnsafeBytes { raw in
                UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + transfer.offset, byteCount: n)
            }
            transfer.offset += n
            return n
        }
        // libcurl waits for the reply after DATA inside curl_multi_perform (a blocking wait for SMTP), calling this
        // about once a second meanwhile: the only sign that a transfer waiting on a slow relay is alive, and the only
        // way out of that wait when the transfer is given up (non-zero aborts it).
        _ = nurture_easy_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = nurture_easy_setopt_xferinfo_callback(h) { userdata, _, _, _, _ in
            guard let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            transfer.progress()
            guard transfer.shouldAbort() else { return 0 }
            transfer.aborted = true
            transfer.cutConnection()
            return 1
        }
        // Verbose mode only feeds this callback (nothing is printed): it tells which command a reply answers.
        _ = nurture_easy_setopt_long(h, CURLOPT_VERBOSE, 1)
        _ = nurture_easy_setopt_debug_callback(h) { _, type, data, size, userdata in
            guard let data, let userdata, type == CURLINFO_HEADER_IN || type == CURLINFO_HEADER_OUT else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size)
            if transfer.closing { return 0 }
            if type == CURLINFO_HEADER_OUT {
                // Only the verb is kept: AUTH lines carry credentials.
                let verb = String(decoding: bytes.prefix(4), as: UTF8.self).uppercased()
                if verb == "QUIT" { transfer.closing = true } else if verb.allSatisfy(\.isLetter) { transfer.lastCommand = verb }
            } else {
                // Trimmed by byte: this runs for every reply line of every message.
                var end = bytes.count
                while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D || bytes[end - 1] == 0x20 { end -= 1 }
                if end > 0 { transfer.lastReply = String(decoding: bytes[..<min(end, 300)], as: UTF8.self) }
            }
            return 0
        }
        return h
    }

    /// Sets the per-message options; the returned transfer must outlive the transfer (callbacks point at it).
    static func prepare(_ m: OutgoingMessage, index: Int, on h: UnsafeMutableRawPointer, progress: @escaping @Sendable () -> Void,
                        shouldAbort: @escaping () -> Bool) -> (CurlTransfer, UnsafeMutablePointer<curl_slist>?) {
        // Addresses were validated (no CR, LF, <, >): libcurl would pass them straight into the dialogue.
        precondition(!m.recipient.value.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" }))
        let transfer = CurlTransfer(data: m.data, index: index, handle: h, progress: progress, shouldAbort: shouldAbort)
        let recipients = curl_slist_append(nil, "<\(m.recipient.value)>")
        _ = nurture_easy_setopt_string(h, CURLOPT_MAIL_FROM, "<\(m.envelopeFrom.value)>")
        _ = nurture_easy_setopt_slist(h, CURLOPT_MAIL_RCPT, recipients)
        _ = nurture_easy_setopt_off_t(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(m.data.count))
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = nurture_easy_setopt_pointer(h, CURLOPT_READDATA, context)
        _ = nurture_easy_setopt_pointer(h, CURLOPT_DEBUGDATA, context)
        _ = nurture_easy_setopt_pointer(h, CURLOPT_XFERINFODATA, context)
        return (transfer, recipients)
    }
}

/// Counts the lanes down to the moment the last one ends.
final class Countdown: Sendable {
    private let left: Mutex<Int>
    init(_ count: Int) { left = Mutex(count) }
    /// True for the call that reaches zero.
    func tick() -> Bool { left.withLock { $0 -= 1; return $0 == 0 } }
}

/// Per-transfer state reached from libcurl's C callbacks through an unmanaged pointer.
final class CurlTransfer {
    let data: [UInt8]
    var offset = 0
    var lastCommand = ""
    var lastReply = ""
    /// After QUIT, replies say nothing about the message ("221 Bye") and must not hide the real one.
    var closing = false
    /// Set when the progress callback gave the transfer up (shutdown, or its caller cancelled).
    var aborted = false
    let index: Int
    let handle: UnsafeMutableRawPointer
    let progress: @Sendable () -> Void
    let shouldAbort: () -> Bool

    init(data: [UInt8], index: Int, handle: UnsafeMutableRawPointer, progress: @escaping @Sendable () -> Void,
         shouldAbort: @escaping () -> Bool) {
        self.data = data
        self.index = index
        self.handle = handle
        self.progress = progress
        self.shouldAbort = shouldAbort
    }

    /// Shuts the connection's socket down: libcurl would otherwise close it politely (QUIT, then wait for a reply
    /// up to the response timeout) — on a relay that never answers, a stop that never ends.
    func cutConnection() {
        var socket: curl_socket_t = -1
        if nurture_easy_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 {
            _ = shutdown(socket, Int32(SHUT_RDWR))
        }
    }

    /// A transfer given up before its end: possibly delivered once the message body went (after DATA), else not sent.
    var givenUp: DeliveryResult {
        lastCommand == "DATA"
            ? .abandoned("given up at shutdown after the message was sent, before the server's reply: possibly sent")
            : .temporaryFailure("not sent: given up at shutdown before the message was sent")
    }
}
