import Dispatch
import NurtureMail
import Synchronization

/// Accepts every message and keeps it in memory: the transport of `simulate`, where nothing may leave the machine.
public final class MemoryTransport: Transport {
    public let concurrency = 16
    private let messages = Mutex<[OutgoingMessage]>([])
    /// `prepare` may block: the callbacks run here, never on Swift's cooperative threads.
    private let queue = DispatchQueue(label: "nurture.memory-transport")

    public init() {}

    public var delivered: [OutgoingMessage] { messages.withLock { $0 } }

    public func run(groups count: Int, perDomain: Int, prepare: @escaping @Sendable (Int) -> [OutgoingMessage],
                    finish: @escaping @Sendable (Int, [DeliveryResult]) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                for i in 0..<count {
                    let batch = prepare(i)
                    self.messages.withLock { $0 += batch }
                    finish(i, batch.map { _ in .sent(reply: "simulated") })
                }
                continuation.resume()
            }
        }
    }
}
