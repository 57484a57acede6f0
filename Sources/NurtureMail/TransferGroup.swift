import Synchronization

/// One submitted group's messages, shared by the lanes that stream them: who starts what next, the results, and
/// the caller waiting for them (resumed once every lane is done with the group).
final class TransferGroup: Sendable {
    let messages: [OutgoingMessage]
    let queue: Mutex<TransferQueue>
    private let state: Mutex<State>
    private let cancelled = Atomic<Bool>(false)

    private struct State {
        var slots: [DeliveryResult?]
        var lanesLeft = 0
        var done: (@Sendable ([DeliveryResult]) -> Void)?
    }

    init(_ messages: [OutgoingMessage], perDomain: Int) {
        self.messages = messages
        queue = Mutex(TransferQueue(domains: messages.map(\.recipient.domain), perDomain: perDomain))
        state = Mutex(State(slots: Array(repeating: nil, count: messages.count)))
    }

    /// Set before the group is submitted.
    func onDone(_ body: @escaping @Sendable ([DeliveryResult]) -> Void) { state.withLock { $0.done = body } }

    func expect(lanes: Int) { state.withLock { $0.lanesLeft = lanes } }

    func record(_ index: Int, _ result: DeliveryResult) {
        queue.withLock { $0.finish(index) }
        state.withLock { $0.slots[index] = result }
    }

    /// The caller gave up: nothing more of it starts, what is in flight is aborted.
    func cancel() { cancelled.store(true, ordering: .releasing) }

    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// One lane is done with the group; the last one hands the results to the caller.
    func laneDone() {
        let finished = state.withLock { s -> (@Sendable ([DeliveryResult]) -> Void)? in
            s.lanesLeft -= 1
            guard s.lanesLeft == 0 else { return nil }
            defer { s.done = nil }
            return s.done
        }
        finished?(results)
    }

    /// Never reached a lane (the transport stopped, or the caller gave up first): hands the results over now.
    func complete() {
        let done = state.withLock { s -> (@Sendable ([DeliveryResult]) -> Void)? in
            defer { s.done = nil }
            return s.done
        }
        done?(results)
    }

    var results: [DeliveryResult] {
        state.withLock { $0.slots.map { $0 ?? .temporaryFailure("not sent: the transport stopped or the delivery was given up first") } }
    }
}
