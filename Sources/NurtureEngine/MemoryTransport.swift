import NurtureMail
import Synchronization

/// Accepts every message and keeps it in memory: the transport of `simulate`, where nothing may leave the machine.
public final class MemoryTransport: Transport {
    public let concurrency = 16
    private let messages = Mutex<[OutgoingMessage]>([])

    public init() {}

    public var delivered: [OutgoingMessage] { messages.withLock { $0 } }

    public func transfer(_ messages: [OutgoingMessage], perDomain: Int) async -> [DeliveryResult] {
        self.messages.withLock { $0 += messages }
        return messages.map { _ in .sent(reply: "simulated") }
    }
}
