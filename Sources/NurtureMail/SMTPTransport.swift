import CCurl
import Foundation
import NurtureCore
import Synchronization

/// SMTP through libcurl: one dedicated thread drives a curl multi handle with one reused easy handle per
/// connection, so connections stay open across messages and libcurl's blocking work never runs on Swift's
/// cooperative threads.
public final class SMTPTransport: Transport {
    public let concurrency: Int
    private let worker: CurlWorker

    public init(settings: SMTPSettings) {
        concurrency = max(1, settings.connections)
        worker = CurlWorker(settings: settings)
    }

    public func run(groups count: Int, prepare: @escaping @Sendable (Int) -> [OutgoingMessage],
                    finish: @escaping @Sendable (Int, [DeliveryResult]) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            worker.submit(CurlWorker.Job(count: count, prepare: prepare, finish: finish, done: { continuation.resume() }))
        }
    }

    /// Maps libcurl's outcome to a delivery result. The CURLcode alone does not separate soft from hard failures:
    /// the reply code and the command it answered do.
    static func result(curlCode: UInt32, responseCode: Int, lastCommand: String, lastReply: String) -> DeliveryResult {
        let code = CURLcode(rawValue: curlCode)
        let reply = lastReply.isEmpty ? "\(responseCode)" : lastReply
        if code == CURLE_OK { return .sent(reply: reply) }
        switch responseCode {
        case 400..<500:
            return .temporaryFailure(reply)
        case 500..<600 where lastCommand == "RCPT" || lastCommand == "DATA":
            // A 5xx to RCPT, or a 5.1.x/5.2.1 status after DATA, is about the recipient: a hard bounce.
            let status = reply.split(separator: " ").dropFirst().first ?? ""
            let aboutRecipient = lastCommand == "RCPT" || status.hasPrefix("5.1.") || status == "5.2.1"
            return .permanentFailure(reply, recipientRejected: aboutRecipient)
        case 500..<600:
            // Refused at EHLO, STARTTLS, AUTH or MAIL FROM: our configuration, not the lead. Keep the mail and retry.
            return .temporaryFailure("\(reply) (after \(lastCommand.isEmpty ? "connect" : lastCommand): check the SMTP settings)")
        default:
            return .temporaryFailure("curl error \(code.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }
}

/// Per-transfer state reached from libcurl's C callbacks through an unmanaged pointer.
final class CurlTransfer {
    let data: [UInt8]
    var offset = 0
    var lastCommand = ""
    var lastReply = ""
    /// After QUIT, replies say nothing about the message ("221 Bye") and must not hide the real one.
    var closing = false
    let index: Int

    init(data: [UInt8], index: Int) {
        self.data = data
        self.index = index
    }
}

/// The thread that owns every libcurl handle; jobs are handed over and results handed back.
final class CurlWorker: @unchecked Sendable {
    struct Job {
        var count: Int
        var prepare: @Sendable (Int) -> [OutgoingMessage]
        var finish: @Sendable (Int, [DeliveryResult]) -> Void
        var done: @Sendable () -> Void
    }

    private let settings: SMTPSettings
    private let jobs = Mutex<[Job]>([])
    private let wakeUp = DispatchSemaphore(value: 0)
    private static let global: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(settings: SMTPSettings) {
        self.settings = settings
        _ = Self.global
        let thread = Thread { [self] in self.loop() }
        thread.name = "nurture-smtp"
        thread.start()
    }

    func submit(_ job: Job) {
        jobs.withLock { $0.append(job) }
        wakeUp.signal()
    }

    private func loop() {
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        let width = max(1, settings.connections)
        _ = nurture_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, width)
        let handles = (0..<width).map { _ in makeEasyHandle() }
        while true {
            wakeUp.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            for i in 0..<job.count {
                let messages = job.prepare(i)
                guard !messages.isEmpty else { job.finish(i, []); continue }
                job.finish(i, handles.count == 1 ? runSerially(messages, handle: handles[0]) : run(messages, multi: multi, handles: handles))
            }
            job.done()
        }
    }

    /// Options that stay the same for every message on a handle (and so on its connection).
    private func makeEasyHandle() -> UnsafeMutableRawPointer {
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
                let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                if !line.isEmpty { transfer.lastReply = String(line.prefix(300)) }
            }
            return 0
        }
        return h
    }

    /// With one connection, `curl_easy_perform` on the reused handle: no multi bookkeeping, no poll round trips.
    private func runSerially(_ messages: [OutgoingMessage], handle h: UnsafeMutableRawPointer) -> [DeliveryResult] {
        messages.enumerated().map { index, m in
            let (transfer, recipients) = prepare(m, index: index, on: h)
            let code = curl_easy_perform(h)
            var response = 0
            _ = nurture_easy_getinfo_long(h, CURLINFO_RESPONSE_CODE, &response)
            _ = nurture_easy_setopt_slist(h, CURLOPT_MAIL_RCPT, nil)
            curl_slist_free_all(recipients)
            return withExtendedLifetime(transfer) {
                SMTPTransport.result(curlCode: code.rawValue, responseCode: response, lastCommand: transfer.lastCommand, lastReply: transfer.lastReply)
            }
        }
    }

    /// Sets the per-message options; the returned transfer must outlive the transfer (callbacks point at it).
    private func prepare(_ m: OutgoingMessage, index: Int, on h: UnsafeMutableRawPointer) -> (CurlTransfer, UnsafeMutablePointer<curl_slist>?) {
        // Addresses were validated (no CR, LF, <, >): libcurl would pass them straight into the dialogue.
        precondition(!m.recipient.value.contains(where: { $0.isNewline || $0 == "<" || $0 == ">" }))
        let transfer = CurlTransfer(data: m.data, index: index)
        let recipients = curl_slist_append(nil, "<\(m.recipient.value)>")
        _ = nurture_easy_setopt_string(h, CURLOPT_MAIL_FROM, "<\(m.envelopeFrom.value)>")
        _ = nurture_easy_setopt_slist(h, CURLOPT_MAIL_RCPT, recipients)
        _ = nurture_easy_setopt_off_t(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(m.data.count))
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = nurture_easy_setopt_pointer(h, CURLOPT_READDATA, context)
        _ = nurture_easy_setopt_pointer(h, CURLOPT_DEBUGDATA, context)
        return (transfer, recipients)
    }

    /// Runs the messages over the handles (one transfer per handle at a time), returning results in order.
    private func run(_ messages: [OutgoingMessage], multi: UnsafeMutableRawPointer, handles: [UnsafeMutableRawPointer]) -> [DeliveryResult] {
        var results = [DeliveryResult?](repeating: nil, count: messages.count)
        var pending = Array(messages.indices.reversed())
        var idle = handles
        var active: [UnsafeMutableRawPointer: (transfer: CurlTransfer, recipients: UnsafeMutablePointer<curl_slist>?)] = [:]

        func start(_ index: Int, on h: UnsafeMutableRawPointer) {
            active[h] = prepare(messages[index], index: index, on: h)
            curl_multi_add_handle(multi, h)
        }

        while true {
            while !idle.isEmpty, let index = pending.popLast() { start(index, on: idle.removeLast()) }
            if active.isEmpty { break }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let h = msg.pointee.easy_handle, let (transfer, recipients) = active[h] else { continue }
                var response = 0
                _ = nurture_easy_getinfo_long(h, CURLINFO_RESPONSE_CODE, &response)
                results[transfer.index] = SMTPTransport.result(curlCode: msg.pointee.data.result.rawValue, responseCode: response,
                                                               lastCommand: transfer.lastCommand, lastReply: transfer.lastReply)
                curl_multi_remove_handle(multi, h)
                _ = nurture_easy_setopt_slist(h, CURLOPT_MAIL_RCPT, nil)
                curl_slist_free_all(recipients)
                active[h] = nil
                idle.append(h)
            }
            if !active.isEmpty && running > 0 { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
        return results.map { $0 ?? .temporaryFailure("not attempted") }
    }
}
