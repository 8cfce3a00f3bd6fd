import NIOCore
import StreamWire

/// MMS: over HTTP (MMSH), a describe request gets the ASF header and a play request the header,
/// then `$D` data chunks from the media pump; MMST's binary greeting gets a minimal MMST reply
/// (`HeadHandler`, where the framer hands it).
final class MMSHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        guard MMSResponder.isPlayRequest(head) else {
            connection.respondAndClose(context, MMSResponder.respond(to: head))
            connection.framer.mode = .ignore
            return
        }
        let sink = MediaSink.mmsh(context.channel)
        connection.startStream(context, sink: sink, answer: MMSResponder.playResponse(), server: ServerHeader.windowsMedia)
    }
}
