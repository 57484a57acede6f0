import Dispatch
import Synchronization

/// Rendered transfer groups handed from the rendering tasks to the transport's thread, which waits for group i
/// only when it gets there: rendering group i + 1 overlaps the transfer of group i. The waiting side is the
/// transport's own thread, never a cooperative one.
final class RenderQueue: @unchecked Sendable { // the semaphores are thread-safe; the slots are behind a mutex
    private let slots: Mutex<[Scheduler.RenderedGroup?]>
    private let ready: [DispatchSemaphore]

    init(count: Int) {
        slots = Mutex(Array(repeating: nil, count: count))
        ready = (0..<count).map { _ in DispatchSemaphore(value: 0) }
    }

    func put(_ i: Int, _ group: Scheduler.RenderedGroup) {
        slots.withLock { $0[i] = group }
        ready[i].signal()
    }

    /// True once group i is rendered (never waits).
    func isReady(_ i: Int) -> Bool { slots.withLock { $0[i] != nil } }

    /// Group i, waiting for it if it is still being rendered. May be called more than once per group.
    func take(_ i: Int) -> Scheduler.RenderedGroup {
        ready[i].wait()
        ready[i].signal() // leave it available for the next call
        return slots.withLock { $0[i]! }
    }
}
