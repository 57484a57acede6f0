import Foundation
import Logging
import NurtureCore
import NurtureMail
import ServiceLifecycle

/// Polls the inbound mailboxes: each unprocessed message is fetched, recorded, and only then flagged or moved. A
/// crash between recording and flagging fetches it again next time, and the inbound key makes that a no-op; a
/// store that cannot record leaves the message where it is for the next poll.
public struct InboundService: Service {
    let mailboxes: [InboundMailbox]
    let processor: InboundProcessor
    let clock: NurtureClock
    let interval: @Sendable () -> TimeInterval
    let logger: Logger

    public init(mailboxes: [InboundMailbox], processor: InboundProcessor, clock: NurtureClock, interval: @escaping @Sendable () -> TimeInterval,
                logger: Logger) {
        self.mailboxes = mailboxes
        self.processor = processor
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            for mailbox in mailboxes {
                if Task.isShuttingDownGracefully { break }
                await poll(mailbox)
            }
            let wake = clock.now().addingTimeInterval(interval())
            do {
                try await cancelWhenGracefulShutdown { [clock] in try await clock.sleep(until: wake) }
            } catch {
                break
            }
        }
    }

    /// One pass over a mailbox; returns how many messages were recorded (duplicates included).
    @discardableResult
    public func poll(_ mailbox: InboundMailbox) async -> Int {
        let uids: [UInt32]
        do {
            uids = try await mailbox.unprocessed()
        } catch {
            logger.warning("inbound \(mailbox.name): cannot list new messages: \(error)")
            return 0
        }
        var done = 0
        for uid in uids {
            if Task.isShuttingDownGracefully { break }
            do {
                let bytes = try await mailbox.fetch(uid: uid)
                do {
                    _ = try await processor.process(bytes, source: mailbox.name)
                } catch let error as InboundFormatError {
                    // Flagging it unrecorded would lose it, leaving it would fetch it forever: it is kept aside.
                    _ = try await processor.keepAside(bytes, size: bytes.count, key: InboundProcessor.key(nil, bytes),
                                                      reason: "not a message: \(error.reason)", source: mailbox.name, now: clock.now())
                }
                try await mailbox.markProcessed(uid: uid)
                done += 1
            } catch {
                // The store or the server failed: the message stays unflagged and is tried again at the next poll.
                logger.warning("inbound \(mailbox.name) UID \(uid): \(error); left for the next poll")
                break
            }
        }
        return done
    }
}
