import NIOCore
import StreamWire

/// The admin port: the status page (`AdminResponder`), then the connection closes.
final class AdminHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        connection.respondAndClose(context, AdminResponder.respond(to: head, counters: connection.counters))
        connection.framer.mode = .ignore
    }
}
