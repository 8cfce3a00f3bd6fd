import NIOCore
import PortModel
import StreamWire

/// What the handlers of one TCP connection share, whichever of them is on the pipeline: the port
/// it came in on, streamd's registries, the framer in front, and whether the connection has media
/// to end when it closes.
final class Connection {
    let service: Service
    let listener: String
    let port: Int
    let counters: Counters
    let tunnels: TunnelRegistry
    let rtmpt: RTMPTRegistry
    let media: MediaRegistry
    let framer: StreamFramer
    /// Set once this connection has set up or played media, or serves as a tunnel's GET side (which
    /// the POST side sets media up on): its sessions end with it. Only such connections are looked
    /// up when they close.
    var usesMedia = false
    private var rtspMedia: ConnectionMedia?

    init(
        service: Service, listener: String, port: Int, counters: Counters, tunnels: TunnelRegistry, rtmpt: RTMPTRegistry,
        media: MediaRegistry, framer: StreamFramer
    ) {
        self.service = service
        self.listener = listener
        self.port = port
        self.counters = counters
        self.tunnels = tunnels
        self.rtmpt = rtmpt
        self.media = media
        self.framer = framer
    }

    func countRequest() { counters.update(listener) { $0.requests += 1 } }

    func write(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    func respondAndClose(_ context: ChannelHandlerContext, _ response: Response) {
        let channel = context.channel
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: response.bytes))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// Any port may receive RTSP (DSS listens for RTSP on 554, 7070, 8000 and 80): answered in
    /// kind, with this connection's media host.
    func answerRTSP(_ head: RequestHead, context: ChannelHandlerContext) {
        let host = context.channel.localAddress?.ipAddress ?? "0.0.0.0"
        write(context, RTSPResponder.respond(to: head, host: host, port: port, media: mediaHost(context)).bytes)
    }

    /// The RTSP media host for requests on this connection: media goes back on it, UDP to its peer.
    private func mediaHost(_ context: ChannelHandlerContext) -> ConnectionMedia {
        if let rtspMedia { return rtspMedia }
        let host = ConnectionMedia(registry: media, sink: context.channel, client: context.channel.remoteAddress)
        rtspMedia = host
        usesMedia = true
        return host
    }

    /// A stream carried on an HTTP answer (ICY, MMSH): the answer, then what the media pump sends
    /// until the client leaves; 503 when --sessions-max is reached.
    func startStream(_ context: ChannelHandlerContext, sink: MediaSink, answer: Response, server: String) {
        usesMedia = true
        guard media.add(owner: ObjectIdentifier(context.channel), sink: sink, playing: true) != nil else {
            let reason = "--sessions-max \(media.maxSessions) reached"
            return respondAndClose(
                context,
                Response(
                    version: "HTTP/1.0", status: 503, reason: "Service Unavailable",
                    headers: [("Server", server), ("X-Streamd-Reason", reason), ("Content-Length", "0")]))
        }
        write(context, answer.bytes)
        framer.mode = .ignore
    }

    /// Puts `next` in the place of the handler of `context`: what the framer reads from now on,
    /// `forwarding` first, goes to it.
    func replace(_ context: ChannelHandlerContext, with next: ChannelHandler, forwarding input: Framed? = nil) {
        do {
            try context.pipeline.syncOperations.addHandler(next, position: .after(context.handler))
        } catch {
            return context.close(promise: nil)
        }
        if let input { context.fireChannelRead(NIOAny(input)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
