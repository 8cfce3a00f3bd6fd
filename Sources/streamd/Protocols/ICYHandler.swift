import NIOCore
import StreamWire

/// Shoutcast/Icecast: a listener's GET gets the head, then paced MP3 frames from the media pump
/// until it leaves; a source client's SOURCE or PUT is accepted and what it sends is dropped.
final class ICYHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        switch ICYResponder.respond(to: head) {
        case .listener(let response) where head.method == "GET":
            connection.startStream(context, sink: .icy(context.channel), answer: response, server: ServerHeader.streamd)
        case .listener(let response), .other(let response):
            connection.respondAndClose(context, response)
            connection.framer.mode = .ignore
        case .source(let response):
            connection.write(context, response.bytes)
            connection.framer.mode = .ignore
        }
    }
}
