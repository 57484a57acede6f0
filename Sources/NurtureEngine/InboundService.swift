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
        // Logged out and their threads ended before the store closes.
        for case let inbox as IMAPInbox in mailboxes { await inbox.close() }
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
                let bytes: [UInt8]
                do {
                    bytes = try await mailbox.fetch(uid: uid)
                } catch IMAPError.messageTooLarge(_, let size) {
                    // Not read at all: remembered with its reason, then flagged, so it is not fetched again and again.
                    let note = "message of \(size) bytes is over inbound.max_message_size: left unread in \(mailbox.name), UID \(uid)"
                    _ = try await processor.keepAside([], size: size, key: InboundProcessor.key(nil, Array("\(mailbox.name) \(uid) \(size)".utf8)),
                                                      reason: note, source: mailbox.name, now: clock.now())
                    try await mailbox.markProcessed(uid: uid)
                    done += 1
                    continue
                }
                do {
                    let result = try await processor.process(bytes, source: mailbox.name)
                    if result.duplicate {
                        logger.info("inbound \(mailbox.name) UID \(uid): already recorded (fetched again after a restart?); marking it processed")
                    }
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
