import Foundation
import NurtureCore

/// One thread of the store's own that runs blocking database work in order. Swift's cooperative pool has one
/// thread per core (two here): a SQLite call waiting for a busy writer on one of them freezes half the daemon,
/// so every store call from Swift concurrency hops here and suspends instead of blocking.
final class DatabaseLane: @unchecked Sendable {
    let name: String
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var started = false
    private var stopping = false
    private var exited: [CheckedContinuation<Void, Never>] = []
    private var done = false

    init(name: String) { self.name = name }

    /// Jobs queued or running: the store hands a read to its least busy reader lane.
    var load: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head
    }

    /// Runs `work` on this lane's thread and resumes the caller with its result.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit { continuation.resume(with: Result { try work() }) } rejected: {
                continuation.resume(throwing: StoreFailure.closed)
            }
        }
    }

    /// Queues `job`; `rejected` runs instead (on the caller's thread) once the lane is shut down.
    func submit(_ job: @escaping @Sendable () -> Void, rejected: () -> Void) {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            rejected()
            return
        }
        jobs.append(job)
        if !started {
            // Started on first use, never in `init`: a store that is opened and closed without work owns no thread.
            started = true
            let thread = Thread { [self] in loop() }
            thread.name = name
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count {
                done = true
                let waiting = exited
                exited = []
                condition.unlock()
                waiting.forEach { $0.resume() }
                return
            }
            let job = jobs[head]
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }

    /// Refuses new work, lets queued work finish, and returns once the thread has ended (joined).
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            stopping = true
            if !started || done {
                condition.unlock()
                continuation.resume()
                return
            }
            exited.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    /// Stops the thread without waiting (a store released without `close()`, in tests and one-shot commands).
    func release() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }
}
