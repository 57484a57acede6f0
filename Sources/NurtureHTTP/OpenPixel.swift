import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import NurtureCore
import NurtureSigning
import Synchronization

/// The open pixel's rules, shared by its event-loop path (`OpenPixelHandler`) and its Hummingbird route: which hit a
/// request records, what its outcome counts, and the answer, which is always the pixel. A class: each pending pixel
/// holds it, and a struct of a dozen references cost a retain each per copy.
final class OpenPixel: Sendable {
    let signer: TokenSigner
    let repeats: RepeatLimiter
    let batcher: EventBatcher
    let now: @Sendable () -> Date
    let logger: Logger
    /// Hummingbird's request metrics under the labels its `MetricsMiddleware` gives the route, so `/metrics` counts
    /// the pixel the same whichever path answered it.
    let get: RouteMetrics
    let head: RouteMetrics
    /// Answers of a committed batch reach each event loop in one wake-up.
    let mailboxes = LoopMailbox.Registry()
    /// Open tokens that passed their HMAC, so a pixel fetched again (mail readers refetch; wrk replays one) is not
    /// verified again: the HMAC was a twentieth of the event loop's time. Only valid tokens get in (a forged one
    /// always pays for its check), and the table is emptied when it reaches `verifiedCap`.
    private let verified = Mutex<[Substring: LinkToken]>([:])
    static let verifiedCap = 4_096
    /// `nurture_events_total` of opens, held directly: `EventCounters` builds its key string per call.
    let human, machine, replay: Counter

    init(signer: TokenSigner, repeats: RepeatLimiter, batcher: EventBatcher, now: @escaping @Sendable () -> Date,
         logger: Logger) {
        self.signer = signer
        self.repeats = repeats
        self.batcher = batcher
        self.now = now
        self.logger = logger
        get = RouteMetrics(method: "GET")
        head = RouteMetrics(method: "HEAD")
        human = Counter(label: "nurture_events_total", dimensions: [("type", "open"), ("origin", "human")])
        machine = Counter(label: "nurture_events_total", dimensions: [("type", "open"), ("origin", "machine")])
        replay = Counter(label: "nurture_events_total", dimensions: [("type", "open"), ("origin", "repeat")])
    }

    /// The hit a pixel request records: nil for anything but a valid open token (`<token>.gif`), and for a replay
    /// past the per-token cap (counted as a repeat).
    func hit(file raw: Substring, userAgent: String?, head: Bool) -> TrackedHit? {
        // Compared as bytes: Character-wise string work was a visible share of the event loop's time.
        guard raw.utf8.count > 4, raw.utf8.suffix(4).elementsEqual(".gif".utf8) else { return nil }
        let text = Substring(raw.utf8.dropLast(4))
        let token: LinkToken
        if let known = verified.withLock({ $0[text] }) {
            token = known
        } else {
            guard let checked = signer.verify(text, purpose: .open) else { return nil }
            verified.withLock { cache in
                if cache.count >= Self.verifiedCap { cache.removeAll(keepingCapacity: true) }
                cache[text] = checked
            }
            token = checked
        }
        let at = now()
        guard repeats.admit(.init(outboxID: token.outboxID, kind: 0, link: -1), at: at) else {
            replay.increment()
            return nil
        }
        return .open(outboxID: token.outboxID, at: at, userAgent: userAgent, head: head)
    }

    /// Counts a recorded open; an open that could not be recorded is logged (the reader still gets the pixel).
    func finished(_ result: Result<Bool?, any Error>) {
        switch result {
        case .success(let machine?): (machine ? self.machine : human).increment()
        case .success(nil): break // the message no longer exists: nothing recorded
        case .failure(let error): logger.error("open not recorded: \(error)")
        }
    }

    static let gif: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21,
        0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44,
        0x01, 0x00, 0x3B,
    ]

    static let body = ByteBuffer(bytes: gif)

    /// The pixel's headers in the order the Hummingbird route sends them (its own, Content-Length, the security
    /// headers), before `Date`.
    static let headers: [(String, String)] = [
        ("Cache-Control", "no-store, no-cache, must-revalidate, private, max-age=0"), ("Pragma", "no-cache"), ("Expires", "0"),
        ("Content-Type", "image/gif"), ("Content-Length", "\(gif.count)"),
    ] + HTTPProtocolGuard.securityHeaders

    /// The answer's head for a given `Date` value.
    static func responseHead(date: String) -> HTTPResponseHead {
        HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders(headers + [("Date", date)]))
    }

    /// `hb_requests`, `http_server_request_duration` and `http_server_active_requests` of `/o/{token}` for one method.
    struct RouteMetrics: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let active: Meter

        init(method: String) {
            let dimensions = [("http.route", "/o/{token}"), ("http.request.method", method), ("http.response.status_code", "200")]
            requests = Counter(label: "hb.requests", dimensions: dimensions)
            duration = Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            active = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method)])
        }
    }
}
