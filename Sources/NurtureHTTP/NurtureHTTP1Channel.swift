import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization

/// Hummingbird's HTTP/1 child channel with `HTTPProtocolGuard` between NIO's decoder and the framework, then
/// `OpenPixelHandler` (the pixel answered on the event loop; the idle timeout and shutdown close for every request,
/// in place of Hummingbird's `HTTPConnectionStateHandler`), and a cap on open connections.
struct NurtureHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    /// Open connections of one server, shared by its child channels.
    final class Connections: Sendable {
        let open = Atomic<Int>(0)
    }

    let responder: HTTPChannelHandler.Responder
    let limits: HTTPProtocolGuard.Limits
    let decoder: HTTP1Channel.Configuration.DecoderConfiguration
    let idleTimeout: TimeAmount
    /// Nil on a listener that does not serve the pixel.
    let pixel: OpenPixel?
    let connections = Connections()

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let count = connections.open.wrappingAdd(1, ordering: .relaxed).newValue
        let connections = self.connections
        channel.closeFuture.whenComplete { _ in connections.open.wrappingSubtract(1, ordering: .relaxed) }
        return channel.eventLoop.makeCompletedFuture {
            var limitsConfiguration = NIOHTTPDecoderLimitConfiguration()
            limitsConfiguration.maxHeaderFieldSize = decoder.maxHeaderFieldSize
            limitsConfiguration.maxHeaderListSize = decoder.maxHeaderListSize
            limitsConfiguration.maxHeaderFieldCount = decoder.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                     withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                     withDecoderLimitConfiguration: limitsConfiguration)
            try pipeline.addHandler(HTTPProtocolGuard(limits: limits, overCapacity: count > limits.maxConnections))
            try pipeline.addHandler(OpenPixelHandler(pixel: pixel, idleTimeout: idleTimeout))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value asyncChannel: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        await handleHTTP(asyncChannel: asyncChannel, logger: logger)
    }
}
