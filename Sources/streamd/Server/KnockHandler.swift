import Dispatch
import FoundationEssentials
import KnockAuth
import NIOConcurrencyHelpers
import NIOCore
import StreamWire

/// Answers the UDP knock: a valid request gets its signed reply, anything else gets silence.
/// A reply is never larger than its request, and each source address is rate-limited. Replies go
/// out through `socket`, never through the channel: a reply that cannot be sent is dropped and
/// counted, and the socket stays open.
final class KnockHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let key: KnockKey
    let listener: String
    let counters: Counters
    let limiter: NIOLockedValueBox<KnockRateLimiter>
    let socket: UDPSender
    /// On the media range: RTP/RTCP from players (punch packets, receiver reports) keep their session alive.
    let media: MediaRegistry?

    init(
        key: KnockKey, listener: String, counters: Counters, limiter: NIOLockedValueBox<KnockRateLimiter>, socket: UDPSender,
        media: MediaRegistry? = nil
    ) {
        self.socket = socket
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
        socket.send(
            context.channel.allocator.buffer(bytes: reply), to: envelope.remoteAddress,
            from: envelope.metadata?.packetInfo?.destinationAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // ICMP errors for earlier replies surface here; they must not close the socket.
    }
}
