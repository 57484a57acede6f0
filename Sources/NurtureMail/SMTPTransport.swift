import CCurl
import Foundation
import NurtureCore
import Synchronization

/// SMTP through libcurl: one dedicated thread drives a curl multi handle with one reused easy handle per
/// connection, so connections stay open across messages and libcurl's blocking work never runs on Swift's
/// cooperative threads.
public final class SMTPTransport: Transport {
    public let concurrency: Int
    /// Eight messages per connection between commits: the connections stream through a group instead of
    /// waiting for a commit (or for the group's slowest transfer) after every message.
    public var groupWidth: Int { concurrency * 8 }
    /// The lanes start the next group while the current one's results are committed.
    public var overlapsGroups: Bool { true }
    private let worker: CurlWorker

    /// - Parameter progress: called from the transport's threads at least once a second while transfers are in
    ///   progress, even while a server is silent within its timeout: the daemon's health sees a transfer alive.
    public init(settings: SMTPSettings, progress: @escaping @Sendable () -> Void = {}) {
        concurrency = max(1, settings.connections)
        worker = CurlWorker(settings: settings, progress: progress)
    }

    public func run(groups count: Int, perDomain: Int, prepare: @escaping @Sendable (Int) -> [OutgoingMessage],
                    finish: @escaping @Sendable (Int, [DeliveryResult]) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            worker.submit(CurlWorker.Job(count: count, perDomain: perDomain, prepare: prepare, finish: finish,
                                         done: { continuation.resume() }))
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

/// The transport's progress callback, reached from libcurl's C progress callback through an unmanaged pointer.
final class ProgressSink: Sendable {
    let call: @Sendable () -> Void
    init(_ call: @escaping @Sendable () -> Void) { self.call = call }
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

/// The threads that own every libcurl handle: a coordinator takes jobs, prepares each group and records its
/// results, while lanes (one per core at most, each with its own thread, multi handle and share of the
/// connections) stream the groups' messages. One event loop alone spent half its time waiting for the server
/// in turn; two in parallel keep both cores busy, and commits never pause the connections.
final class CurlWorker: @unchecked Sendable {
    struct Job {
        var count: Int
        var perDomain: Int
        var prepare: @Sendable (Int) -> [OutgoingMessage]
        var finish: @Sendable (Int, [DeliveryResult]) -> Void
        var done: @Sendable () -> Void
    }

    private let jobs = Mutex<[Job]>([])
    private let wakeUp = DispatchSemaphore(value: 0)
    private let lanes: [CurlLane]
    /// Referenced (unretained) by every easy handle, which live as long as the worker.
    private let sink: ProgressSink
    private static let global: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    init(settings: SMTPSettings, progress: @escaping @Sendable () -> Void) {
        _ = Self.global
        let width = max(1, settings.connections)
        let count = min(width, max(1, ProcessInfo.processInfo.activeProcessorCount))
        let sink = ProgressSink(progress)
        self.sink = sink
        lanes = (0..<count).map { lane in
            CurlLane(handles: stride(from: lane, to: width, by: count).map { _ in Self.makeEasyHandle(settings, progress: sink) }, number: lane,
                     progress: progress)
        }
        let thread = Thread { [self] in self.loop() }
        thread.name = "nurture-smtp"
        thread.start()
    }

    func submit(_ job: Job) {
        jobs.withLock { $0.append(job) }
        wakeUp.signal()
    }

    private func loop() {
        while true {
            wakeUp.wait()
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            // Group i + 1 is queued on the lanes before group i is finished: they go on to it with no pause.
            func start(_ i: Int) -> TransferGroup {
                let group = TransferGroup(job.prepare(i), perDomain: job.perDomain)
                for lane in lanes { lane.submit(group) }
                return group
            }
            var next = job.count > 0 ? start(0) : nil
            for i in 0..<job.count {
                let current = next!
                next = i + 1 < job.count ? start(i + 1) : nil
                current.wait(lanes: lanes.count)
                job.finish(i, current.results)
            }
            job.done()
        }
    }

    /// Options that stay the same for every message on a handle (and so on its connection).
    /// - Parameter progress: kept alive by the caller for as long as the handle (the worker's, for the process).
    static func makeEasyHandle(_ settings: SMTPSettings, progress: ProgressSink) -> UnsafeMutableRawPointer {
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
        // about once a second meanwhile: the only sign that a transfer waiting on a slow relay is alive.
        _ = nurture_easy_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        _ = nurture_easy_setopt_pointer(h, CURLOPT_XFERINFODATA, Unmanaged.passUnretained(progress).toOpaque())
        _ = nurture_easy_setopt_xferinfo_callback(h) { sink, _, _, _, _ in
            if let sink { Unmanaged<ProgressSink>.fromOpaque(sink).takeUnretainedValue().call() }
            return 0
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
    static func prepare(_ m: OutgoingMessage, index: Int, on h: UnsafeMutableRawPointer) -> (CurlTransfer, UnsafeMutablePointer<curl_slist>?) {
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
}

/// One group's messages, shared by the lanes that stream them: who starts what next, and the results.
final class TransferGroup: @unchecked Sendable { // messages are immutable; the rest is behind mutexes
    let messages: [OutgoingMessage]
    let queue: Mutex<TransferQueue>
    private let slots: Mutex<[DeliveryResult?]>
    private let finished = DispatchSemaphore(value: 0)

    init(_ messages: [OutgoingMessage], perDomain: Int) {
        self.messages = messages
        queue = Mutex(TransferQueue(domains: messages.map(\.recipient.domain), perDomain: perDomain))
        slots = Mutex(Array(repeating: nil, count: messages.count))
    }

    func record(_ index: Int, _ result: DeliveryResult) {
        queue.withLock { $0.finish(index) }
        slots.withLock { $0[index] = result }
    }

    func laneDone() { finished.signal() }

    func wait(lanes: Int) { for _ in 0..<lanes { finished.wait() } }

    var results: [DeliveryResult] { slots.withLock { $0.map { $0 ?? .temporaryFailure("not attempted") } } }
}

/// A thread with its own multi handle and connections, streaming messages of the current group.
final class CurlLane: @unchecked Sendable { // its handles are only touched on its thread
    private let groups = Mutex<[TransferGroup]>([])
    private let wakeUp = DispatchSemaphore(value: 0)
    private let handles: [UnsafeMutableRawPointer]
    private let progress: @Sendable () -> Void

    init(handles: [UnsafeMutableRawPointer], number: Int, progress: @escaping @Sendable () -> Void) {
        self.handles = handles
        self.progress = progress
        let thread = Thread { [self] in self.loop(self.handles) }
        thread.name = "nurture-smtp-\(number)"
        thread.start()
    }

    func submit(_ group: TransferGroup) {
        groups.withLock { $0.append(group) }
        wakeUp.signal()
    }

    private func loop(_ handles: [UnsafeMutableRawPointer]) {
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        _ = nurture_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, handles.count)
        while true {
            wakeUp.wait()
            guard let group = groups.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            stream(group, multi: multi, handles: handles)
            group.laneDone()
        }
    }

    /// Starts the group's next messages on free handles until none is left waiting and none of ours is running.
    private func stream(_ group: TransferGroup, multi: UnsafeMutableRawPointer, handles: [UnsafeMutableRawPointer]) {
        var idle = handles
        var active: [UnsafeMutableRawPointer: (transfer: CurlTransfer, recipients: UnsafeMutablePointer<curl_slist>?)] = [:]
        while true {
            while !idle.isEmpty, let index = group.queue.withLock({ $0.start() }) {
                let h = idle.removeLast()
                active[h] = CurlWorker.prepare(group.messages[index], index: index, on: h)
                curl_multi_add_handle(multi, h)
            }
            if active.isEmpty {
                if group.queue.withLock({ $0.isEmpty }) { return }
                // Everything left waits for a domain slot another lane holds: look again shortly.
                curl_multi_poll(multi, nil, 0, 2, nil)
                continue
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            progress() // this loop turns at least once a second (the poll below), however slow the server
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let h = msg.pointee.easy_handle, let (transfer, recipients) = active[h] else { continue }
                var response = 0
                _ = nurture_easy_getinfo_long(h, CURLINFO_RESPONSE_CODE, &response)
                let result = SMTPTransport.result(curlCode: msg.pointee.data.result.rawValue, responseCode: response,
                                                  lastCommand: transfer.lastCommand, lastReply: transfer.lastReply)
                curl_multi_remove_handle(multi, h)
                _ = nurture_easy_setopt_slist(h, CURLOPT_MAIL_RCPT, nil)
                curl_slist_free_all(recipients)
                active[h] = nil
                idle.append(h)
                group.record(transfer.index, result)
            }
            if !active.isEmpty && running > 0 { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
    }
}
