import NIOCore
import StreamWire

/// The RTSP-over-HTTP port (QuickTime's tunnel): a GET with an `x-sessioncookie` becomes the
/// tunnel's GET side (`TunnelGetHandler`), a POST with one its POST side (`TunnelPostHandler`);
/// any other request gets HTTP's answer.
final class TunnelHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        guard let cookie = head.header("x-sessioncookie") else { return answerHTTP(head, context: context) }
        switch head.method {
        case "GET":
            guard connection.tunnels.register(cookie, context.channel) else {
                return connection.respondAndClose(context, HTTPResponder.badRequest())
            }
            connection.framer.mode = .ignore
            connection.write(context, TunnelGetHandler.answer.bytes)
            connection.replace(context, with: TunnelGetHandler(connection, cookie: cookie))
        case "POST":
            // The rest of the connection is base64 RTSP, however long its Content-Length says.
            connection.framer.mode = .bytes
            connection.replace(context, with: TunnelPostHandler(connection, cookie: cookie))
        default:
            answerHTTP(head, context: context)
        }
    }
}
