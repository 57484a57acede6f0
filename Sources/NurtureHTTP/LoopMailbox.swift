import NIOCore
import Synchronization

/// Work handed to one event loop from another thread, run in one `execute` however many items arrive before it
/// runs: a committed batch of pixels costs each event loop one wake-up, not one per open.
final class LoopMailbox: Sendable {
    let loop: any EventLoop
    private let items = Mutex<(work: [@Sendable () -> Void], scheduled: Bool)>(([], false))

    init(loop: any EventLoop) { self.loop = loop }

    func post(_ work: @escaping @Sendable () -> Void) {
        let wake = items.withLock { box in
            box.work.append(work)
            defer { box.scheduled = true }
            return !box.scheduled
        }
        if wake { loop.execute { [self] in run() } }
    }

    private func run() {
        let work = items.withLock { box in
            defer { box = ([], false) }
            return box.work
        }
        for item in work { item() }
    }

    /// One mailbox per event loop, shared by the connections it serves.
    final class Registry: Sendable {
        private let boxes = Mutex<[ObjectIdentifier: LoopMailbox]>([:])

        func mailbox(for loop: any EventLoop) -> LoopMailbox {
            boxes.withLock { boxes in
                if let box = boxes[ObjectIdentifier(loop)] { return box }
                let box = LoopMailbox(loop: loop)
                boxes[ObjectIdentifier(loop)] = box
                return box
            }
        }
    }
}
