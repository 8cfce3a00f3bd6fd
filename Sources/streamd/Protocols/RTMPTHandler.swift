import NIOCore
import StreamWire

/// RTMPT, RTMP tunnelled over HTTP POSTs: /open/1, /send/ID/N, /idle/ID/N, /close/ID/N, each
/// answered on a kept-alive connection, the RTMP sessions kept by id (`RTMPTRegistry`). Any other
/// request gets HTTP's answer.
final class RTMPTHandler: HeadHandler {
    typealias InboundIn = Framed
    let connection: Connection

    init(_ connection: Connection) { self.connection = connection }

    func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        if head.method == "POST", let response = tunnelAnswer(head, body: body) { return connection.write(context, response.bytes) }
        answerHTTP(head, context: context)
    }

    private func tunnelAnswer(_ head: RequestHead, body: [UInt8]) -> Response? {
        let parts = head.target.split(separator: "/").map(String.init)
        guard let verb = parts.first else { return nil }
        let headers: [(String, String)] = [
            ("Server", ServerHeader.streamd), ("Content-Type", "application/x-fcs"), ("Connection", "keep-alive"),
        ]
        func reply(_ bytes: [UInt8]) -> Response {
            let length = ("Content-Length", String(bytes.count))
            return Response(version: "HTTP/1.1", status: 200, reason: "OK", headers: headers + [length], body: bytes)
        }
        let sessions = connection.rtmpt
        switch verb {
        case "open":
            guard let id = sessions.open() else { return nil }
            return reply(Array("\(id)\n".utf8))
        case "send", "idle":
            guard parts.count >= 2, let out = sessions.exchange(parts[1], verb == "send" ? body : []) else {
                return Response(version: "HTTP/1.1", status: 404, reason: "Not Found", headers: headers + [("Content-Length", "0")])
            }
            return reply([0x01] + out)
        case "close":
            if parts.count >= 2 { sessions.close(parts[1]) }
            return reply([0x00])
        case "fcs":
            return reply([])
        default:
            return nil
        }
    }
}
