import NIOCore
import StreamWire

/// The RTSP port's handler: RTSP requests are answered as on every port (`HeadHandler`); garbage
/// gets RTSP's 400, and an HTTP request HTTP's answer.
final class RTSPHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection
    var answersGarbageAsRTSP: Bool { true }

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) { answerHTTP(head, context: context) }
}
