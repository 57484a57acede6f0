import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The thread that owns an `IMAPMailbox`'s connection: libcurl and the socket waits block, so they run here and
/// never on Swift's cooperative pool. Requests queue and run one at a time, in order, on one reused connection.
/// The thread starts with the first request and ends at `stop()`, logging out.
final class IMAPWorker: Sendable {
    private let settings: IMAPSettings
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    private let ignoresMove: Bool
    private let connecting = ConnectingSocket()

    private struct State {
        var jobs: [Job] = []
        var started = false
        var stopped = false
        var exited = false
        var onExit: [@Sendable () -> Void] = []
    }

    /// One request: what to run on the session (nil: refused, the client is closed).
    final class Job: Sendable {
        let run: @Sendable (IMAPSession?) -> Void
        init(run: @escaping @Sendable (IMAPSession?) -> Void) { self.run = run }
    }

    /// Cancellation flag made before the job exists (the cancellation handler needs it first).
    final class Flag: Sendable {
        let value = Atomic<Bool>(false)
    }

    init(settings: IMAPSettings, ignoresMove: Bool = false) {
        self.settings = settings
        self.ignoresMove = ignoresMove
    }

    /// Runs `body` on the worker's thread with its session; throws `IMAPError.closed` after `stop()`, and
    /// `IMAPError.cancelled` when the caller's task is cancelled (the connection is then dropped).
    func perform<T: Sendable>(_ body: @escaping @Sendable (IMAPSession) throws -> T) async throws -> T {
        let flag = Flag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
                let job = Job { session in
                    guard let session else { return continuation.resume(throwing: IMAPError.closed) }
                    if flag.value.load(ordering: .acquiring) { return continuation.resume(throwing: IMAPError.cancelled) }
                    session.shouldAbort = { [self] in flag.value.load(ordering: .acquiring) || stopping.load(ordering: .acquiring) }
                    continuation.resume(with: Result { try session.perform(body) })
                }
                enqueue(job)
            }
        } onCancel: { [connecting] in
            flag.value.store(true, ordering: .releasing)
            connecting.interrupt()
        }
    }

    private func enqueue(_ job: Job) {
        let start = state.withLock { state -> Bool? in
            guard !state.stopped else { return nil }
            state.jobs.append(job)
            defer { state.started = true }
            return !state.started
        }
        guard let start else { return job.run(nil) }
        if start {
            let thread = Thread { [self] in loop() }
            thread.name = "nurture-imap"
            thread.start()
        }
        wakeUp.signal()
    }

    /// Refuses new requests, lets the queued ones finish, logs out; `exited` is called once the thread is done
    /// (at once when it never started).
    func stop(exited: @escaping @Sendable () -> Void = {}) {
        let runExitedNow = state.withLock { state -> Bool in
            state.stopped = true
            if state.exited || !state.started { return true }
            state.onExit.append(exited)
            return false
        }
        wakeUp.signal()
        if runExitedNow { exited() }
    }

    /// Gives up what is in flight too (the daemon's shutdown): waits for the server are cut short.
    func abort() {
        stopping.store(true, ordering: .releasing)
        connecting.interrupt()
        stop()
    }

    private func loop() {
        let session = IMAPSession(settings: settings)
        session.ignoresMove = ignoresMove
        session.connecting = connecting
        while true {
            wakeUp.wait()
            let next = state.withLock { state -> (Job?, Bool) in
                if !state.jobs.isEmpty { return (state.jobs.removeFirst(), false) }
                return (nil, state.stopped)
            }
            if let job = next.0 {
                job.run(stopping.load(ordering: .acquiring) ? nil : session)
                wakeUp.signal() // look again: more jobs, or the stop
                continue
            }
            if next.1 { break }
        }
        if stopping.load(ordering: .acquiring) { session.drop() } else { session.close() }
        let callbacks = state.withLock { state -> [@Sendable () -> Void] in
            state.exited = true
            defer { state.onExit = [] }
            return state.onExit
        }
        for callback in callbacks { callback() }
    }
}

/// The sockets libcurl has open while it connects and logs in (`curl_easy_perform`): `interrupt()` (a cancellation, from any thread)
/// shuts them down, so the blocked wait ends at once. A socket is forgotten before libcurl closes it, so its number
/// can never name somebody else's socket by then.
final class ConnectingSocket: Sendable {
    private let open = Mutex<Set<Int32>>([])

    func opened(_ fd: Int32) { open.withLock { _ = $0.insert(fd) } }
    func closing(_ fd: Int32) { open.withLock { _ = $0.remove(fd) } }
    func connected() { open.withLock { $0.removeAll() } }

    func interrupt() {
        // 2 is SHUT_RDWR (Glibc's enum constant does not import as a name).
        open.withLock { fds in for fd in fds { _ = shutdown(fd, 2) } }
    }
}
