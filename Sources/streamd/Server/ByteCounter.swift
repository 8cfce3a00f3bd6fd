import NIOCore

/// First on every TCP pipeline (nearest the socket): counts the bytes written to the connection,
/// TLS records included, for the admin port's /metrics.
final class ByteCounter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let counters: Counters
    let listener: String

    init(counters: Counters, listener: String) {
        self.counters = counters
        self.listener = listener
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let count = unwrapOutboundIn(data).readableBytes
        counters.update(listener) { $0.bytesSent += count }
        context.write(data, promise: promise)
    }
}
