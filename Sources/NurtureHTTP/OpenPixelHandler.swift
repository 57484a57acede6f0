import Dispatch
import Foundation
import NIOCore
import NIOHTTP1

/// Answers `GET`/`HEAD /o/<token>.gif` on the connection's event loop, ahead of Hummingbird: the request never
/// becomes a task on Swift's cooperative pool (a hop per request was most of the pixel's cost), its hit goes to the
/// group commit with a callback, and the pre-built answer is written once that commit is done. Everything else
/// passes through untouched, and answers leave in request order: while a pixel waits for its commit, later parts of
/// the connection are held (and reads paused) and replayed after it; a pixel behind a request Hummingbird is still
/// answering goes to Hummingbird's own route. Since Hummingbird no longer sees every request, this handler also keeps
/// the connection's idle timeout and graceful-shutdown close (`HTTPConnectionStateHandler`'s work) for both paths.
final class OpenPixelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Nil on a listener without the pixel (`http.metrics_listen`): only the idle timeout and shutdown remain.
    let pixel: OpenPixel?
    let idleTimeout: TimeAmount

    /// A pixel request answered here, from its head until its answer is written.
    private struct Pending {
        var head: Bool
        var close: Bool
        var started: UInt64
    }

    /// What arrived while a pixel was pending, replayed in order after its answer.
    private enum Held {
        case part(HTTPServerRequestPart)
        case event(Any)
        case error(any Error)
    }

    private var pending: Pending?
    /// The rest of the pending pixel request (a body it may carry, its end) is dropped.
    private var dropping = false
    private var held = CircularBuffer<Held>()
    /// A read asked for while parts were held: passed on once they are replayed.
    private var readHeld = false
    /// Requests handed to Hummingbird whose answer has not ended.
    private var forwarded = 0
    /// A request's head was read and its end not yet.
    private var reading = false
    /// Graceful shutdown: the connection closes once nothing is in flight.
    private var quiescing = false
    private var closed = false
    private var lastActive = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    private var dateSecond = -1
    private var mailbox: LoopMailbox?
    /// The write of the last pixel answered here: a close waits for it.
    private var lastAnswer: EventLoopFuture<Void>?
    private var responseHead = OpenPixel.responseHead(date: "")

    init(pixel: OpenPixel?, idleTimeout: TimeAmount) {
        self.pixel = pixel
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleIdle(context, in: idleTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdle(context, in: idleTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
        held.removeAll()
        context.fireChannelInactive()
    }

    // MARK: inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActive = .now()
        _ = process(context, unwrapInboundIn(data))
    }

    /// Takes one part in order; true when it was passed on to Hummingbird.
    private func process(_ context: ChannelHandlerContext, _ part: HTTPServerRequestPart) -> Bool {
        if dropping {
            if case .end = part {
                dropping = false
                reading = false
                // Answered before its end arrived, during shutdown: nothing is left to wait for.
                if quiescing, pending == nil, forwarded == 0, let written = lastAnswer { closeAfter(context, written) }
            }
            return false
        }
        if pending != nil {
            held.append(.part(part))
            return false
        }
        switch part {
        case .head(let request):
            reading = true
            if forwarded == 0, let pixel, let file = Self.pixelFile(request) {
                start(context, pixel, request, file: file)
                return false
            }
            forwarded += 1
        case .body:
            break
        case .end:
            reading = false
        }
        context.fireChannelRead(wrapInboundOut(part))
        return true
    }

    /// `<token>.gif` when the request is a pixel this handler answers: GET or HEAD of `/o/` and one segment of
    /// base64url characters and dots (anything else, percent-encoded or odd, is left to the router).
    static func pixelFile(_ request: HTTPRequestHead) -> Substring? {
        guard request.method == .GET || request.method == .HEAD else { return nil }
        let uri = request.uri.utf8
        guard uri.starts(with: "/o/".utf8) else { return nil }
        let start = uri.index(uri.startIndex, offsetBy: 3)
        let file = uri[start..<(uri[start...].firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex)]
        guard !file.isEmpty, file.allSatisfy({ c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F || c == 0x2E
        }) else { return nil }
        return Substring(file)
    }

    private func start(_ context: ChannelHandlerContext, _ pixel: OpenPixel, _ request: HTTPRequestHead, file: Substring) {
        let isHead = request.method == .HEAD
        (isHead ? pixel.head : pixel.get).active.increment()
        pending = Pending(head: isHead, close: !request.isKeepAlive, started: DispatchTime.now().uptimeNanoseconds)
        dropping = true
        let agents = request.headers["User-Agent"]
        // As Hummingbird's `HTTPFields` reads it: repeated fields joined by commas.
        let userAgent = agents.isEmpty ? nil : agents.count == 1 ? agents[0] : agents.joined(separator: ", ")
        guard let hit = pixel.hit(file: file, userAgent: userAgent, head: isHead) else { return answer(context) }
        let mailbox = self.mailbox ?? pixel.mailboxes.mailbox(for: context.eventLoop)
        self.mailbox = mailbox
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pixel.batcher.submit(hit) { result in
            pixel.finished(result)
            mailbox.post {
                let (handler, context) = bound.value
                handler.answer(context)
            }
        }
    }

    /// Writes the pending pixel's answer, then replays what waited behind it.
    private func answer(_ context: ChannelHandlerContext) {
        guard let done = pending, let pixel else { return }
        pending = nil
        let metrics = done.head ? pixel.head : pixel.get
        metrics.requests.increment()
        metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - done.started))
        metrics.active.decrement()
        guard !closed else { return }
        let second = time(nil)
        if second != dateSecond {
            dateSecond = second
            responseHead = OpenPixel.responseHead(date: HTTPDate.string(epochSeconds: second))
        }
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if !done.head { context.write(wrapOutboundOut(.body(.byteBuffer(OpenPixel.body))), promise: nil) }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        lastAnswer = written
        lastActive = .now()
        if done.close { return closeAfter(context, written) }
        replay(context)
        if quiescing, forwarded == 0, pending == nil, !reading { closeAfter(context, written) }
    }

    private func replay(_ context: ChannelHandlerContext) {
        var passed = false
        while pending == nil, let next = held.popFirst() {
            switch next {
            case .part(let part): passed = process(context, part) || passed
            case .event(let event): context.fireUserInboundEventTriggered(event)
            case .error(let error): context.fireErrorCaught(error)
            }
        }
        if passed { context.fireChannelReadComplete() }
        if held.isEmpty, readHeld {
            readHeld = false
            context.read()
        }
    }

    private func closeAfter(_ context: ChannelHandlerContext, _ written: EventLoopFuture<Void>) {
        guard !closed else { return }
        closed = true
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.assumeIsolated().whenComplete { _ in bound.value.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if pending == nil, forwarded == 0, !reading { context.close(promise: nil) }
            return
        }
        if pending != nil || !held.isEmpty { return held.append(.event(event)) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if pending != nil || !held.isEmpty { return held.append(.error(error)) }
        context.fireErrorCaught(error)
    }

    // MARK: outbound

    func read(context: ChannelHandlerContext) {
        if pending != nil, !held.isEmpty {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Hummingbird's answers.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        // Its 400 for a malformed request can come with nothing forwarded.
        forwarded = max(0, forwarded - 1)
        lastActive = .now()
        if quiescing, forwarded == 0, pending == nil, !reading {
            let written = context.writeAndFlush(data)
            if let promise { written.cascade(to: promise) }
            closeAfter(context, written)
        } else {
            context.write(data, promise: promise)
        }
    }

    // MARK: idle timeout

    /// Closes a connection with no traffic for `idleTimeout` unless a request it finished reading is being answered.
    private func scheduleIdle(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        idleTimer?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            let context = bound.value
            guard !closed else { return }
            if !reading, pending != nil || forwarded > 0 { return scheduleIdle(context, in: idleTimeout) }
            let deadline = lastActive + idleTimeout
            if NIODeadline.now() >= deadline {
                context.close(promise: nil)
            } else {
                scheduleIdle(context, in: deadline - NIODeadline.now())
            }
        }
    }
}
