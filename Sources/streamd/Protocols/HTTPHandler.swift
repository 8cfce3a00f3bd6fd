import NIOCore
import StreamWire

/// Plain HTTP (and HTTPS behind TLS): a status page at `/`, the test resource, 404 or 405, then
/// the connection closes. Also what an HTTP or RTSP client on an RTMP port is answered by.
final class HTTPHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) { answerHTTP(head, context: context) }
}
