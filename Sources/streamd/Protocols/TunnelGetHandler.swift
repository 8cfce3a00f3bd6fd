import NIOCore
import StreamWire

/// The GET side of an RTSP-over-HTTP tunnel: the replies to what the POST side carries, and the
/// session's media, go out here. Nothing is read (the framer drops it); the tunnel's cookie is
/// given up, and its media ended, when the connection closes.
final class TunnelGetHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Framed

    /// The answer to the GET; the stream of replies follows it, for as long as the tunnel lasts.
    static let answer = Response(
        version: "HTTP/1.0", status: 200, reason: "OK",
        headers: [
            ("Server", ServerHeader.streamd), ("Connection", "close"), ("Cache-Control", "no-cache"), ("Pragma", "no-cache"),
            ("Content-Type", "application/x-rtsp-tunnelled"),
        ])

    let connection: Connection
    let cookie: String

    init(_ connection: Connection, cookie: String) {
        self.connection = connection
        self.cookie = cookie
        // The POST side sets media up with this connection as its sink and owner.
        connection.usesMedia = true
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.tunnels.remove(cookie)
        context.fireChannelInactive()
    }
}
