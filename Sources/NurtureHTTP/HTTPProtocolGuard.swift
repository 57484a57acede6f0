import NIOCore
import NIOHTTP1

/// Sits between NIO's HTTP/1 decoder and Hummingbird and answers what the framework gets wrong or leaves open:
/// headers that trickle in (408 after `headerTimeout`), declared bodies over the cap (413 at once, not after a
/// 10 s wait), transfer codings other than plain `chunked` (501; `gzip, chunked` was read as plain), an unknown
/// `Expect` (417) and `100-continue` (answered), methods a path does not take (405 with `Allow`), HTTP/1.0 without
/// keep-alive (closed after the answer), connections past the cap (503). Every answer, the framework's 400s and
/// 404s included, carries the security headers.
final class HTTPProtocolGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    struct Limits: Sendable {
        var headerTimeout: TimeAmount = .seconds(10)
        var maxBody = 64 * 1024
        var maxConnections = 512
    }

    static let securityHeaders = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "no-referrer")]

    let limits: Limits
    let overCapacity: Bool
    private var headTimer: Scheduled<Void>?
    /// When the header deadline runs out; nil while none runs.
    private var headDeadline: NIODeadline?
    /// A request refused at its head: the rest of it is dropped and the connection closed after the answer.
    private var rejecting = false
    /// Between forwarding a head and the end of its answer: no header deadline runs.
    private var responding = false
    /// The request asked (HTTP/1.0 without keep-alive, or `Connection: close`) for the connection to close.
    private var closeAfterResponse = false
    /// Bytes of a next request arrived on a kept-alive connection: its deadline runs. An idle one is just closed
    /// at the deadline (a 408 there would be read by a client as the answer to the request it sends next).
    /// `sawBytes` counts from the end of the last request *read*, not of its answer: a client that has the answer's
    /// body may send its next bytes before the answer's end has passed through here (CI saw a quiet close instead of
    /// a 408 that way).
    private var answered = false, sawBytes = false
    /// Between a request's head and its end, as read.
    private var readingRequest = false
    /// The read that delivered a request's end: its read-complete says nothing about a next request.
    private var endInThisRead = false

    init(limits: Limits, overCapacity: Bool) {
        self.limits = limits
        self.overCapacity = overCapacity
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headTimer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        headTimer?.cancel()
        context.fireChannelInactive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !rejecting else { return }
        if overCapacity {
            reject(context, .serviceUnavailable, "Too many connections\n", extra: [("Retry-After", "1")])
        } else {
            armTimer(context)
        }
    }

    /// Starts the header deadline. One timer is kept and moved forward lazily: cancelling and scheduling a task per
    /// request was a visible share of the pixel's event-loop time.
    private func armTimer(_ context: ChannelHandlerContext) {
        headDeadline = .now() + limits.headerTimeout
        if headTimer == nil { scheduleTimer(context, at: headDeadline!) }
    }

    private func scheduleTimer(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        headTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            headTimer = nil
            guard let due = headDeadline, !responding, !rejecting else { return }
            if NIODeadline.now() < due { return scheduleTimer(bound.value, at: due) }
            if answered && !sawBytes {
                rejecting = true
                bound.value.close(promise: nil)
            } else {
                reject(bound.value, .requestTimeout, "Request headers too slow\n")
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejecting else { return }
        switch unwrapInboundIn(data) {
        case .head(var head):
            headDeadline = nil
            if let refusal = Self.check(head, limits: limits) {
                reject(context, refusal.status, refusal.text, extra: refusal.headers)
                return
            }
            if !head.isKeepAlive {
                closeAfterResponse = true
                // Hummingbird closes after the answer when the request says so; HTTP/1.0 says it by omission.
                head.headers.replaceOrAdd(name: "Connection", value: "close")
            }
            if head.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                head.headers.remove(name: "Expect")
                // Only a request with a body waits for it (found by the HTTP property runner: a GET got a 100 first).
                let declared = head.headers["Content-Length"].contains { $0 != "0" } || head.headers.contains(name: "Transfer-Encoding")
                if declared {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
                }
            }
            responding = true
            readingRequest = true
            context.fireChannelRead(wrapInboundOut(.head(head)))
        case .body:
            context.fireChannelRead(data)
        case .end:
            readingRequest = false
            endInThisRead = true
            sawBytes = false
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if endInThisRead {
            endInThisRead = false
        } else if !readingRequest {
            sawBytes = true
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            Self.addSecurityHeaders(&head.headers)
            if closeAfterResponse { head.headers.replaceOrAdd(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            context.write(data, promise: promise)
            responding = false
            answered = true
            if !rejecting, !closeAfterResponse { armTimer(context) }
        }
    }

    struct Refusal {
        var status: HTTPResponseStatus
        var text: String
        var headers: [(String, String)] = []
    }

    /// What a request head alone tells is wrong with it, if anything.
    static func check(_ head: HTTPRequestHead, limits: Limits) -> Refusal? {
        let uri = head.uri.utf8
        let path = Substring(uri[..<(uri.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex)])
        if let allowed = RouteMethods.allowed(path: path), !allowed.contains(head.method.rawValue) {
            return Refusal(status: .methodNotAllowed, text: "Method not allowed\n", headers: [("Allow", allowed.joined(separator: ", "))])
        }
        let codings = head.headers["Transfer-Encoding"].flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if !codings.isEmpty {
            guard codings == ["chunked"] else { return Refusal(status: .notImplemented, text: "Only the chunked transfer coding is supported\n") }
            if !head.headers["Content-Length"].isEmpty { return Refusal(status: .badRequest, text: "Content-Length with Transfer-Encoding\n") }
        }
        let lengths = head.headers["Content-Length"].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        if !lengths.isEmpty {
            guard Set(lengths).count == 1, let first = lengths.first, first.allSatisfy(\.isASCII), first.allSatisfy(\.isNumber),
                  first.count <= 18, let length = Int(first) else {
                return Refusal(status: .badRequest, text: "Bad Content-Length\n")
            }
            if length > limits.maxBody { return Refusal(status: .payloadTooLarge, text: "Request body over \(limits.maxBody / 1024) KiB\n") }
        }
        if let expect = head.headers.first(name: "Expect"), expect.lowercased() != "100-continue" {
            return Refusal(status: .expectationFailed, text: "Only Expect: 100-continue is supported\n")
        }
        return nil
    }

    static func addSecurityHeaders(_ headers: inout HTTPHeaders) {
        for (name, value) in securityHeaders where !headers.contains(name: name) { headers.add(name: name, value: value) }
    }

    /// Answers and closes; whatever else the client sends is dropped.
    private func reject(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ text: String, extra: [(String, String)] = []) {
        rejecting = true
        headDeadline = nil
        headTimer?.cancel()
        var headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "\(text.utf8.count)"),
                                   ("Connection", "close")] + extra)
        Self.addSecurityHeaders(&headers)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in bound.value.close(promise: nil) }
    }
}

/// The methods each route takes, so a wrong method gets 405 with `Allow` rather than the router's 404.
enum RouteMethods {
    /// Compared as bytes of the request's path: no string is made per request, and no Character is read.
    static func allowed(path: Substring) -> [String]? {
        let parts = Array(path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst())
        func `is`(_ i: Int, _ word: String) -> Bool { parts[i].elementsEqual(word.utf8) }
        switch parts.count {
        case 1 where `is`(0, "healthz") || `is`(0, "metrics"): return ["GET"]
        case 2 where `is`(0, "o") || `is`(0, "c"): return ["GET", "HEAD"]
        case 2 where `is`(0, "u"): return ["GET", "POST"]
        case 3 where `is`(0, "api") && `is`(1, "v1") && (`is`(2, "leads") || `is`(2, "events")): return ["POST"]
        case 4 where `is`(0, "api") && `is`(1, "v1") && `is`(2, "leads"): return ["GET", "DELETE"]
        case 5 where `is`(0, "api") && `is`(1, "v1") && `is`(2, "leads") && `is`(4, "export"): return ["GET"]
        default: return nil
        }
    }
}
