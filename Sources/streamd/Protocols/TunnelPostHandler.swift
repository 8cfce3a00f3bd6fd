import FoundationEssentials
import NIOCore
import StreamWire

/// The POST side of an RTSP-over-HTTP tunnel: base64 text, possibly split anywhere, holding RTSP
/// requests (and `$`-framed packets, skipped) whose replies go out on the GET side with the same
/// cookie. Nothing is ever answered on this connection; more than 64 KiB of decoded RTSP that is
/// not a whole request, or text that is not base64, closes it.
final class TunnelPostHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Framed

    static let maxPending = 64 * 1024

    let connection: Connection
    let cookie: String
    /// Base64 text not yet a multiple of four characters.
    private var carry: [UInt8] = []
    /// Decoded RTSP that is not yet a whole request.
    private var pending: [UInt8] = []

    init(_ connection: Connection, cookie: String) {
        self.connection = connection
        self.cookie = cookie
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .bytes(let bytes) = unwrapInboundIn(data) else { return }
        let alphabet = (carry + bytes).filter { !($0 == 13 || $0 == 10 || $0 == 32) }
        let usable = alphabet.count - alphabet.count % 4
        guard let decoded = Data(base64Encoded: Data(alphabet[0..<usable])) else { return context.close(promise: nil) }
        var rtsp = pending + Array(decoded)
        guard rtsp.count <= Self.maxPending else { return context.close(promise: nil) }
        let target = connection.tunnels.channel(for: cookie)
        let host = context.channel.localAddress?.ipAddress ?? "0.0.0.0"
        // Media for a tunnelled session goes out on the GET side, and ends with it.
        let media = target.map { ConnectionMedia(registry: connection.media, sink: $0, client: context.channel.remoteAddress) }
        while true {
            if InterleavedFrame.starts(rtsp[...]) {
                guard let frame = InterleavedFrame.parse(rtsp[...]) else { break }
                rtsp.removeFirst(frame.consumed)
                continue
            }
            guard case .head(let head, let consumed) = RequestHead.parse(rtsp) else { break }
            guard !head.hasBadContentLength else { return context.close(promise: nil) }
            let length = head.contentLength ?? 0
            guard rtsp.count >= consumed + length else { break }
            rtsp.removeFirst(consumed + length)
            connection.countRequest()
            let reply = RTSPResponder.respond(to: head, host: host, port: connection.port, media: media).bytes
            if let target { target.writeAndFlush(target.allocator.buffer(bytes: reply), promise: nil) }
        }
        carry = Array(alphabet[usable...])
        pending = rtsp
    }
}
