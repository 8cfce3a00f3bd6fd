import NIOCore

/// First on every TCP pipeline (nearest the socket): counts the bytes written to the connection,
/// TLS records included, for the admin port's /metrics. The count is kept here, on the channel's
/// loop, and added to the shared counters every 64 KiB and when the connection closes: a media
/// stream writes thousands of times a second, and the counters' lock is shared by every loop.
final class ByteCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let flushEvery = 64 << 10

    let counters: Counters
    let listener: String
    private var pending = 0

    init(counters: Counters, listener: String) {
        self.counters = counters
        self.listener = listener
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        pending += unwrapOutboundIn(data).readableBytes
        if pending >= Self.flushEvery { flush() }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flush()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { flush() }

    private func flush() {
        guard pending > 0 else { return }
        let count = pending
        pending = 0
        counters.update(listener) { $0.bytesSent += count }
    }
}
