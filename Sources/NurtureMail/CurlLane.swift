import CCurl
import Dispatch
import Foundation
import Synchronization

/// A thread with its own multi handle and connections, streaming its share of each submitted group in turn.
/// Its handles are touched only on its thread, except `curl_multi_wakeup` (thread-safe), which `stop()` calls
/// while the multi handle is alive.
final class CurlLane: @unchecked Sendable {
    private let inbox = Mutex(Inbox())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let handles: [UnsafeMutableRawPointer]
    private let multi: UnsafeMutableRawPointer
    private let number: Int
    private let progress: @Sendable () -> Void

    private struct Inbox {
        var groups: [TransferGroup] = []
        var exited = false
    }

    init(handles: [UnsafeMutableRawPointer], number: Int, progress: @escaping @Sendable () -> Void) {
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        _ = nurture_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, handles.count)
        self.multi = multi
        self.handles = handles
        self.number = number
        self.progress = progress
    }

    /// Starts the thread; `exited` is called once it has given up its transfers and handed back every group, just
    /// before it cleans its handles up (the thread's last act, which a relay that never answers QUIT may make last
    /// up to a second per connection — not the stop's business to wait for).
    func start(exited: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in loop(stopped: exited) }
        thread.name = "nurture-smtp-\(number)"
        thread.start()
    }

    func submit(_ group: TransferGroup) {
        let queued = inbox.withLock { inbox -> Bool in
            guard !inbox.exited, !isStopping else { return false }
            inbox.groups.append(group)
            return true
        }
        if queued { wakeUp.signal() } else { group.laneDone() }
    }

    func stop() {
        stopping.store(true, ordering: .releasing)
        inbox.withLock { if !$0.exited { curl_multi_wakeup(multi) } }
        wakeUp.signal()
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func loop(stopped: @Sendable () -> Void) {
        while true {
            wakeUp.wait()
            if isStopping { break }
            guard let group = inbox.withLock({ $0.groups.isEmpty ? nil : $0.groups.removeFirst() }) else { continue }
            stream(group)
            group.laneDone()
        }
        let left = inbox.withLock { inbox -> [TransferGroup] in
            inbox.exited = true
            defer { inbox.groups = [] }
            return inbox.groups
        }
        for group in left { group.laneDone() }
        stopped()
        // The cleanup closes cached connections politely (QUIT, then a wait for the reply) through the multi's own
        // closing handle, which takes its response timeout from the last handle added: make that wait a second, so
        // a relay that never answers cannot hold the stop.
        if let h = handles.first {
            _ = nurture_easy_setopt_long(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, 1)
            curl_multi_add_handle(multi, h)
            curl_multi_remove_handle(multi, h)
        }
        curl_multi_cleanup(multi) // no easy handle is added any more: `stream` removes each before returning
        for h in handles { curl_easy_cleanup(h) }
    }

    /// Starts the group's next messages on free handles until none is left waiting and none of ours is running;
    /// on a stop (or when the caller gave up) removes what is in flight and leaves the rest unstarted.
    private func stream(_ group: TransferGroup) {
        var idle = handles
        var active: [UnsafeMutableRawPointer: (transfer: CurlTransfer, recipients: UnsafeMutablePointer<curl_slist>?)] = [:]
        let giveUp = { [unowned self] in self.isStopping || group.isCancelled }
        func release(_ h: UnsafeMutableRawPointer) {
            curl_multi_remove_handle(multi, h)
            _ = nurture_easy_setopt_slist(h, CURLOPT_MAIL_RCPT, nil)
            curl_slist_free_all(active[h]?.recipients)
            active[h] = nil
            idle.append(h)
        }
        while true {
            if giveUp() {
                for (h, entry) in active {
                    entry.transfer.cutConnection()
                    release(h)
                    group.record(entry.transfer.index, entry.transfer.givenUp)
                }
                return
            }
            while !idle.isEmpty, let index = group.queue.withLock({ $0.start() }) {
                let h = idle.removeLast()
                active[h] = CurlWorker.prepare(group.messages[index], index: index, on: h, progress: progress, shouldAbort: giveUp)
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
                guard msg.pointee.msg == CURLMSG_DONE, let h = msg.pointee.easy_handle, let transfer = active[h]?.transfer else { continue }
                var response = 0
                _ = nurture_easy_getinfo_long(h, CURLINFO_RESPONSE_CODE, &response)
                let result = transfer.aborted
                    ? transfer.givenUp
                    : SMTPTransport.result(curlCode: msg.pointee.data.result.rawValue, responseCode: response,
                                           lastCommand: transfer.lastCommand, lastReply: transfer.lastReply)
                release(h)
                group.record(transfer.index, result)
            }
            if !active.isEmpty && running > 0 { curl_multi_poll(multi, nil, 0, 1000, nil) }
        }
    }
}
