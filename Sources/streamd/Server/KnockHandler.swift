import StreamdProtocols
import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Shared

/// Answers the UDP knock: a valid request gets its signed reply, anything else gets silence.
/// A reply is never larger than its request, and each source address is rate-limited.
final class KnockHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    let key: KnockKey
    let listener: String
    let counters: Counters
    let limiter: NIOLockedValueBox<KnockRateLimiter>
    /// On the media range: RTP/RTCP from players (punch packets, receiver reports) keep their session alive.
    let media: MediaRegistry?

    init(key: KnockKey, listener: String, counters: Counters, limiter: NIOLockedValueBox<KnockRateLimiter>, media: MediaRegistry? = nil) {
        self.media = media
        self.key = key
        self.listener = listener
        self.counters = counters
        self.limiter = limiter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        guard let request = Knock.Request(bytes: bytes) else {
            if let media, bytes.count >= 8, bytes[0] & 0xC0 == 0x80 {
                media.touch(from: envelope.remoteAddress)
                return
            }
            counters.update(listener) { $0.dropped += 1 }
            return
        }
        let source = envelope.remoteAddress.ipAddress ?? "?"
        let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
        guard limiter.withLockedValue({ $0.allow(source, now: now) }) else {
            counters.update(listener) { $0.dropped += 1 }
            return
        }
        let reply = Knock.reply(to: request, key: key.key)
        precondition(reply.count <= bytes.count, "a knock reply must never be larger than its request")
        counters.update(listener) { $0.knocks += 1 }
        let buffer = context.channel.allocator.buffer(bytes: reply)
        context.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: buffer)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors for earlier replies surface here; they must not close the socket.
    }
}
