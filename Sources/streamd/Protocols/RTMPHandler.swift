import NIOCore
import StreamWire

/// RTMP (and RTMPS behind TLS): the session (`RTMPSession`) answers the handshake and the
/// commands; a `play` adds a stream of audio messages from the media pump, which ends when the
/// client stops playing or leaves. A client whose first byte is not RTMP's (the framer tells) is
/// an HTTP or RTSP client on the RTMP port: `HTTPHandler` takes its place and answers it.
final class RTMPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Framed

    let connection: Connection
    private var session = RTMPSession()
    /// The media session of the stream being played.
    private var stream: String?

    init(_ connection: Connection) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .bytes(let bytes) = unwrapInboundIn(data) else {
            return connection.replace(context, with: HTTPHandler(connection), forwarding: unwrapInboundIn(data))
        }
        let media = connection.media
        session.playAllowed = stream != nil || media.hasRoom()
        let out = session.receive(bytes)
        if !out.isEmpty { connection.write(context, out) }
        if let playing = session.playing, stream == nil {
            connection.usesMedia = true
            stream = media.add(owner: ObjectIdentifier(context.channel), sink: .rtmp(context.channel, stream: playing), playing: true)?.id
        } else if session.playing == nil, let id = stream {
            _ = media.remove(id)
            stream = nil
        }
        if !session.commands.isEmpty { connection.countRequest() }
        if case .failed = session.state { context.close(promise: nil) }
    }
}
