import Dispatch
import Synchronization

extension DatabaseCopy {
    /// The bounded hand-over between the SQLite reader's thread and the PostgreSQL writer: the reader blocks (on its
    /// own thread, never Swift's) once two batches wait, and stops when the writer gives up.
    final class Handover: Sendable {
        let items: AsyncStream<Item>
        private let continuation: AsyncStream<Item>.Continuation
        let credits = DispatchSemaphore(value: 2)
        private let stopped = Atomic<Bool>(false)

        init() {
            let made = AsyncStream.makeStream(of: Item.self)
            items = made.stream
            continuation = made.continuation
        }

        func send(_ item: Item) throws {
            credits.wait()
            guard !stopped.load(ordering: .acquiring) else { throw CancellationError() }
            continuation.yield(item)
        }

        func finish() { continuation.finish() }

        /// The writer failed: wake the reader so it ends its read transaction.
        func stop() {
            stopped.store(true, ordering: .releasing)
            credits.signal()
        }
    }
}
