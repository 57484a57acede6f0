import CCurl
import Foundation
import NurtureCore
import Synchronization

/// SMTP through libcurl: dedicated threads drive curl multi handles with one reused easy handle per connection,
/// so connections stay open across messages and libcurl's blocking work never runs on Swift's cooperative threads.
/// The threads exist only while `run()` does (the daemon's `ServiceGroup`, or `Transports.running` elsewhere).
public final class SMTPTransport: Transport {
    public let concurrency: Int
    /// Eight messages per connection between commits: the connections stream through a group instead of
    /// waiting for a commit (or for the group's slowest transfer) after every message.
    public var groupWidth: Int { concurrency * 8 }
    /// The lanes go on to the next submitted group while the current one's results are committed.
    public var overlapsGroups: Bool { true }
    private let settings: SMTPSettings
    private let progress: @Sendable () -> Void
    private let phase = Mutex<Phase>(.waiting([]))

    /// Before `run()`, transfers wait in order; after it, they are refused as not sent.
    private enum Phase {
        case waiting([TransferGroup])
        case running(CurlWorker)
        case stopped
    }

    /// Starts nothing: the threads, handles and connections are made by `run()`.
    /// - Parameter progress: called from the transport's threads at least once a second while transfers are in
    ///   progress, even while a server is silent within its timeout: the daemon's health sees a transfer alive.
    public init(settings: SMTPSettings, progress: @escaping @Sendable () -> Void = {}) {
        concurrency = max(1, settings.connections)
        self.settings = settings
        self.progress = progress
    }

    public func transfer(_ messages: [OutgoingMessage], perDomain: Int) async -> [DeliveryResult] {
        guard !messages.isEmpty else { return [] }
        let group = TransferGroup(messages, perDomain: perDomain)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[DeliveryResult], Never>) in
                group.onDone { continuation.resume(returning: $0) }
                let refused = phase.withLock { phase -> Bool in
                    switch phase {
                    case .waiting(let groups): phase = .waiting(groups + [group])
                    case .running(let worker): worker.submit(group)
                    case .stopped: return true
                    }
                    return false
                }
                if refused { group.complete() }
            }
        } onCancel: {
            group.cancel()
            // Still waiting for `run()`: nothing of it started.
            let withdrawn = phase.withLock { phase -> Bool in
                guard case .waiting(var groups) = phase, let i = groups.firstIndex(where: { $0 === group }) else { return false }
                groups.remove(at: i)
                phase = .waiting(groups)
                return true
            }
            if withdrawn { group.complete() }
        }
    }

    /// Makes the handles and starts the lanes' threads; once cancelled, gives up what is in flight, releases every
    /// handle and returns when every thread has ended.
    public func run() async throws {
        let worker = CurlWorker(settings: settings, progress: progress)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                worker.start(stopped: { continuation.resume() })
                let started = phase.withLock { phase -> Bool in
                    guard case .waiting(let groups) = phase else { return false } // cancelled before it started
                    phase = .running(worker)
                    for group in groups { worker.submit(group) }
                    return true
                }
                if !started { worker.stop() }
            }
        } onCancel: {
            let previous = phase.withLock { phase -> Phase in
                defer { phase = .stopped }
                return phase
            }
            if case .waiting(let groups) = previous { for group in groups { group.complete() } }
            worker.stop()
        }
    }

    /// Maps libcurl's outcome to a delivery result. The CURLcode alone does not separate soft from hard failures:
    /// the reply code and the command it answered do.
    static func result(curlCode: UInt32, responseCode: Int, lastCommand: String, lastReply: String) -> DeliveryResult {
        let code = CURLcode(rawValue: curlCode)
        let reply = lastReply.isEmpty ? "\(responseCode)" : lastReply
        if code == CURLE_OK { return .sent(reply: reply) }
        switch responseCode {
        case 400..<500:
            return .temporaryFailure(reply)
        case 500..<600 where lastCommand == "RCPT" || lastCommand == "DATA":
            // A 5xx to RCPT, or a 5.1.x/5.2.1 status after DATA, is about the recipient: a hard bounce.
            let status = reply.split(separator: " ").dropFirst().first ?? ""
            let aboutRecipient = lastCommand == "RCPT" || status.hasPrefix("5.1.") || status == "5.2.1"
            return .permanentFailure(reply, recipientRejected: aboutRecipient)
        case 500..<600:
            // Refused at EHLO, STARTTLS, AUTH or MAIL FROM: our configuration, not the lead. Keep the mail and retry.
            return .temporaryFailure("\(reply) (after \(lastCommand.isEmpty ? "connect" : lastCommand): check the SMTP settings)")
        default:
            return .temporaryFailure("curl error \(code.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }
}
