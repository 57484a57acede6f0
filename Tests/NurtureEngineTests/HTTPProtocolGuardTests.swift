import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import NurtureHTTP
import Testing

/// The header deadline's bookkeeping on an embedded channel, in the orders a busy machine produces.
struct HTTPProtocolGuardTests {
    /// A decoder, an encoder and the guard, with a header deadline that is due as soon as the loop's time moves.
    static func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
        try channel.pipeline.syncOperations.addHandler(HTTPResponseEncoder())
        try channel.pipeline.syncOperations.addHandler(HTTPProtocolGuard(limits: .init(headerTimeout: .nanoseconds(0)), overCapacity: false))
        channel.pipeline.fireChannelActive()
        return channel
    }

    static func answer(_ channel: EmbeddedChannel, end: Bool) throws {
        if end {
            try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        } else {
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Length", value: "2")
            try channel.writeOutbound(HTTPServerResponsePart.head(head))
            try channel.writeOutbound(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: "{}"))))
        }
    }

    static func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    static func request(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        while try channel.readInbound(as: HTTPServerRequestPart.self) != nil {}
    }

    @Test func aNextRequestThatStartsBeforeTheAnswersEndPassedStillGets408() throws {
        let channel = try Self.channel()
        try Self.request(channel, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try Self.answer(channel, end: false)
        // The client read the body and sent its next bytes before the answer's end went through the guard.
        try Self.request(channel, "GET /hea")
        try Self.answer(channel, end: true)
        _ = try Self.written(channel)
        channel.embeddedEventLoop.advanceTime(to: .now() + .seconds(1))
        let text = try Self.written(channel)
        #expect(text.hasPrefix("HTTP/1.1 408"), "\(text)")
    }

    @Test func anIdleKeptAliveConnectionIsClosedQuietly() throws {
        let channel = try Self.channel()
        try Self.request(channel, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try Self.answer(channel, end: false)
        try Self.answer(channel, end: true)
        _ = try Self.written(channel)
        channel.embeddedEventLoop.advanceTime(to: .now() + .seconds(1))
        #expect(try Self.written(channel).isEmpty)
        #expect(!channel.isActive)
    }
}
