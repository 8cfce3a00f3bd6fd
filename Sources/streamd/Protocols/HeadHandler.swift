import NIOCore
import StreamWire

/// A handler for a protocol that speaks in request heads, behind the framer. Every one of them
/// answers RTSP in kind and a request the framer could not read with 400; `answer` is each
/// protocol's own, for the other requests.
protocol HeadHandler: ChannelInboundHandler, RemovableChannelHandler where InboundIn == Framed {
    var connection: Connection { get }
    /// Garbage gets RTSP's 400 rather than HTTP's even when it does not look like RTSP (the RTSP port).
    var answersGarbageAsRTSP: Bool { get }
    /// Answers a complete request that is not RTSP.
    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext)
}

extension HeadHandler {
    var answersGarbageAsRTSP: Bool { false }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .request(let head, let body):
            connection.countRequest()
            if head.isRTSP {
                connection.answerRTSP(head, context: context)
            } else {
                answer(head, body: body, context: context)
            }
        case .malformed(let start):
            connection.countRequest()
            let rtsp = start.starts(with: Array("OPTIONS".utf8)) || String(decoding: start, as: UTF8.self).contains("RTSP/")
            let answer = rtsp || answersGarbageAsRTSP ? RTSPResponder.badRequest(cseq: nil) : HTTPResponder.badRequest()
            connection.respondAndClose(context, answer)
        case .refused(let head):
            let answer = head.isRTSP ? RTSPResponder.badRequest(cseq: head.header("CSeq")) : HTTPResponder.badRequest()
            connection.respondAndClose(context, answer)
        case .mmst:
            // Only on the MMS port, where the framer looks for it.
            connection.countRequest()
            connection.write(context, MMSResponder.mmstReply())
            context.close(promise: nil)
        case .bytes:
            // The framer reads heads for these protocols: no raw bytes come.
            break
        }
    }

    /// HTTP's answer (a status page, the test resource, 404 or 405), then the connection closes.
    func answerHTTP(_ head: RequestHead, context: ChannelHandlerContext) {
        connection.respondAndClose(context, HTTPResponder.respond(to: head, listener: connection.listener))
        connection.framer.mode = .ignore
    }
}
