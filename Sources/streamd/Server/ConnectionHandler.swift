import StreamWire
import Foundation
import NIOCore
import PortModel
import PortProfiles
import PortPlanning
import FirewallState
import NftablesKernel
import HostInspection
import StreamWire
import KnockAuth
import CommandSupport

/// Limits that keep slow or hostile clients from holding streamd's resources.
struct ConnectionLimits: Sendable {
    /// A request head and its body must be complete within this many seconds: of the connection for
    /// the first request, of the request's first byte for the next ones on a kept-alive connection
    /// (slowloris, and a client that sends half a head and falls silent).
    var headTimeout: Double = 10
    /// A connection that sends nothing for this long is closed.
    var idleTimeout: Int64 = 60
    var maxConnections = 20_000
}

/// One TCP connection: answers in the protocol of the port's service.
///
/// Bytes are gathered until a whole request head is there (at most 8 KiB), then answered. A
/// malformed request gets 400 (or is closed, for binary protocols); nothing a client sends can
/// make the handler hold more than its bounded buffer.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode {
        case head
        case rtmp(RTMPSession)
        /// A tunnel POST: the rest is base64 RTSP, answered on the GET channel.
        case tunnelPost(cookie: String, carry: [UInt8], rtsp: [UInt8])
        /// A tunnel GET: replies arrive from the POST side; nothing to read here.
        case tunnelGet(cookie: String)
        /// A source client: read and discard.
        case discard
        /// Hold the connection and ignore input (services streamd does not speak).
        case hold
    }

    let service: Service
    let listener: String
    let port: Int
    let counters: Counters
    let tunnels: TunnelRegistry
    let rtmpt: RTMPTRegistry
    let limits: ConnectionLimits
    let media: MediaRegistry
    private var rtspMedia: ConnectionMedia?
    private var rtmpStream: String?
    /// Set once this connection has set up or played media.
    private var usedMedia = false
    private var buffer: [UInt8] = []
    private var mode: Mode = .head
    /// Closes the connection when the request being read is not complete in time (`limits.headTimeout`).
    private var headDeadline: Scheduled<Void>?
    /// Until the first request is complete, the deadline runs from the connection, bytes or not.
    private var awaitingFirstRequest = true
    private var counted = false
    private var sniffed = false

    init(
        service: Service, listener: String, port: Int, counters: Counters, tunnels: TunnelRegistry, rtmpt: RTMPTRegistry, limits: ConnectionLimits,
        media: MediaRegistry
    ) {
        self.media = media
        self.service = service
        self.listener = listener
        self.port = port
        self.counters = counters
        self.tunnels = tunnels
        self.rtmpt = rtmpt
        self.limits = limits
        switch service {
        case .rtmp, .rtmps: mode = .rtmp(RTMPSession())
        case .pna, .other, .srt, .webrtc, .rtp, .broadcast: mode = .hold
        default: mode = .head
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        guard counters.openConnection(cap: limits.maxConnections) else {
            context.close(promise: nil)
            return
        }
        counted = true
        if case .head = mode { armHeadDeadline(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarmHeadDeadline()
        if counted { counters.closeConnection() }
        var tunnel = false
        if case .tunnelGet(let cookie) = mode {
            tunnels.remove(cookie)
            tunnel = true
        }
        // Media sent on this connection (or, for UDP, set up on it) ends with it. Only connections
        // that played anything (or a tunnel's GET side, which the POST side sets up) are looked up.
        if usedMedia || tunnel { media.removeAll(owner: ObjectIdentifier(context.channel)) }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A player receiving a stream may stay silent for long (ICY, RTMP): it is not idle.
        if event is IdleStateHandler.IdleStateEvent, !media.hasSessions(owner: ObjectIdentifier(context.channel)) { context.close(promise: nil) }
    }

    /// The RTSP media host for requests on this connection: media goes back on it, UDP to its peer.
    private func mediaHost(_ context: ChannelHandlerContext) -> ConnectionMedia {
        if let rtspMedia { return rtspMedia }
        let host = ConnectionMedia(registry: media, sink: context.channel, client: context.channel.remoteAddress)
        rtspMedia = host
        usedMedia = true
        return host
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A bad client never takes the server down: close this connection only.
        context.close(promise: nil)
    }

    // MARK: the head deadline

    /// Starts the deadline of the request being read, unless one runs already: a timer, so that a
    /// client that falls silent halfway is closed on time, not only when its next byte comes.
    private func armHeadDeadline(_ context: ChannelHandlerContext) {
        guard headDeadline == nil else { return }
        let channel = context.channel
        headDeadline = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(limits.headTimeout * 1e9))) {
            channel.close(promise: nil)
        }
    }

    private func disarmHeadDeadline() {
        headDeadline?.cancel()
        headDeadline = nil
    }

    /// After reading: a request begun and not complete has a deadline; otherwise none runs (between
    /// requests, silence is the idle timeout's business), except before the first request.
    private func updateHeadDeadline(_ context: ChannelHandlerContext) {
        guard case .head = mode else { return disarmHeadDeadline() }
        if !buffer.isEmpty {
            armHeadDeadline(context)
        } else if !awaitingFirstRequest {
            disarmHeadDeadline()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        let bytes = incoming.readBytes(length: incoming.readableBytes) ?? []
        switch mode {
        case .rtmp(var session):
            // Only the first bytes tell RTMP (C0 is 3, or 6 for RTMPE) from a client speaking HTTP or RTSP.
            defer { sniffed = true }
            if !sniffed, bytes.first.map({ $0 != 0x03 && $0 != 0x06 }) ?? false {
                // Not RTMP: an HTTP or RTSP client on the RTMP port gets a clear answer, then closed.
                mode = .head
                buffer = bytes
                answerHeads(context: context)
                updateHeadDeadline(context)
                return
            }
            session.playAllowed = rtmpStream != nil || media.hasRoom()
            let out = session.receive(bytes)
            mode = .rtmp(session)
            if !out.isEmpty { write(context, out) }
            if let stream = session.playing, rtmpStream == nil {
                usedMedia = true
                rtmpStream = media.add(owner: ObjectIdentifier(context.channel), sink: .rtmp(context.channel, stream: stream), playing: true)?.id
            } else if session.playing == nil, let id = rtmpStream {
                _ = media.remove(id)
                rtmpStream = nil
            }
            if !session.commands.isEmpty { counters.update(listener) { $0.requests += 1 } }
            if case .failed = session.state { context.close(promise: nil) }
        case .tunnelPost(let cookie, let carry, let rtsp):
            feedTunnel(context: context, cookie: cookie, carry: carry + bytes, rtsp: rtsp)
        case .tunnelGet, .discard, .hold:
            return
        case .head:
            buffer += bytes
            answerHeads(context: context)
            updateHeadDeadline(context)
        }
    }

    private func write(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func respondAndClose(_ context: ChannelHandlerContext, _ response: Response) {
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: response.bytes))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    /// Answers every complete request head in the buffer, for the protocols that speak in heads.
    private func answerHeads(context: ChannelHandlerContext) {
        while case .head = mode {
            // A `$`-framed packet between RTSP requests (a player's RTCP report on an interleaved session).
            if buffer.first == 0x24, service != .icy, service != .mms, service != .admin {
                guard buffer.count >= 4 else { return }
                let length = 4 + (Int(buffer[2]) << 8 | Int(buffer[3]))
                guard buffer.count >= length else { return }
                buffer.removeFirst(length)
                continue
            }
            if service == .mms, buffer.count >= 16, MMSResponder.isMMST(buffer) {
                counters.update(listener) { $0.requests += 1 }
                write(context, MMSResponder.mmstReply())
                context.close(promise: nil)
                return
            }
            switch RequestHead.parse(buffer) {
            case .needMore:
                return
            case .malformed:
                counters.update(listener) { $0.requests += 1 }
                let rtsp = buffer.starts(with: Array("OPTIONS".utf8)) || String(decoding: buffer.prefix(200), as: UTF8.self).contains("RTSP/")
                respondAndClose(context, rtsp || service == .rtsp ? RTSPResponder.badRequest(cseq: nil) : HTTPResponder.badRequest())
                mode = .hold
                return
            case .head(let head, let consumed):
                let bodyLength = head.method == "POST" && service == .rtspHTTP ? 0 : head.contentLength ?? 0
                if bodyLength > 64 * 1024 || (head.hasBadContentLength && !(head.method == "POST" && service == .rtspHTTP)) {
                    respondAndClose(context, head.isRTSP ? RTSPResponder.badRequest(cseq: head.header("CSeq")) : HTTPResponder.badRequest())
                    mode = .hold
                    return
                }
                guard buffer.count >= consumed + bodyLength else { return }
                let body = Array(buffer[consumed..<(consumed + bodyLength)])
                buffer.removeFirst(consumed + bodyLength)
                // Complete: the next request's deadline runs from its own first byte.
                disarmHeadDeadline()
                awaitingFirstRequest = false
                counters.update(listener) { $0.requests += 1 }
                answer(head, body: body, context: context)
            }
        }
    }

    private func answer(_ head: RequestHead, body: [UInt8], context: ChannelHandlerContext) {
        let host = context.channel.localAddress?.ipAddress ?? "0.0.0.0"
        // Any port may receive RTSP (DSS listens for RTSP on 554, 7070, 8000 and 80): answer it in kind.
        if head.isRTSP {
            write(context, RTSPResponder.respond(to: head, host: host, port: port, media: mediaHost(context)).bytes)
            return
        }
        switch service {
        case .rtspHTTP, .rtmpt:
            if service == .rtmpt, head.method == "POST", let response = rtmptAnswer(head, body: body) {
                write(context, response.bytes)
                return
            }
            if let cookie = head.header("x-sessioncookie"), service == .rtspHTTP {
                if head.method == "GET" {
                    guard tunnels.register(cookie, context.channel) else { return respondAndClose(context, HTTPResponder.badRequest()) }
                    mode = .tunnelGet(cookie: cookie)
                    write(context, Response(version: "HTTP/1.0", status: 200, reason: "OK", headers: [
                        ("Server", ServerHeader.streamd), ("Connection", "close"), ("Cache-Control", "no-cache"), ("Pragma", "no-cache"),
                        ("Content-Type", "application/x-rtsp-tunnelled"),
                    ]).bytes)
                    return
                }
                if head.method == "POST" {
                    let rest = buffer
                    buffer = []
                    mode = .tunnelPost(cookie: cookie, carry: [], rtsp: [])
                    feedTunnel(context: context, cookie: cookie, carry: rest, rtsp: [])
                    return
                }
            }
            respondAndClose(context, HTTPResponder.respond(to: head, listener: listener))
            mode = .hold
        case .icy:
            switch ICYResponder.respond(to: head) {
            case .listener(let response) where head.method == "GET":
                // The head, then paced MP3 frames from the media pump until the listener leaves.
                startStream(context, sink: .icy(context.channel), answer: response, server: ServerHeader.streamd)
            case .listener(let response), .other(let response):
                respondAndClose(context, response)
                mode = .hold
            case .source(let response):
                write(context, response.bytes)
                mode = .discard
            }
        case .mms:
            guard MMSResponder.isPlayRequest(head) else {
                respondAndClose(context, MMSResponder.respond(to: head))
                mode = .hold
                return
            }
            // Play: the head and the ASF header chunk, then `$D` data chunks from the media pump.
            startStream(context, sink: .mmsh(context.channel), answer: MMSResponder.playResponse(), server: ServerHeader.windowsMedia)
        case .admin:
            respondAndClose(context, AdminResponder.respond(to: head, counters: counters))
            mode = .hold
        default:
            respondAndClose(context, HTTPResponder.respond(to: head, listener: listener))
            mode = .hold
        }
    }

    /// A stream carried on an HTTP answer (ICY, MMSH): the answer, then what the media pump sends
    /// until the client leaves; 503 when --sessions-max is reached.
    private func startStream(_ context: ChannelHandlerContext, sink: MediaSink, answer: Response, server: String) {
        usedMedia = true
        guard media.add(owner: ObjectIdentifier(context.channel), sink: sink, playing: true) != nil else {
            return respondAndClose(context, Response(
                version: "HTTP/1.0", status: 503, reason: "Service Unavailable",
                headers: [("Server", server), ("X-Streamd-Reason", "--sessions-max \(media.maxSessions) reached"), ("Content-Length", "0")]))
        }
        write(context, answer.bytes)
        mode = .hold
    }

    /// RTMPT (RTMP tunnelled over HTTP POSTs): /open/1, /send/ID/N, /idle/ID/N, /close/ID/N.
    private func rtmptAnswer(_ head: RequestHead, body: [UInt8]) -> Response? {
        let parts = head.target.split(separator: "/").map(String.init)
        guard let verb = parts.first else { return nil }
        let headers: [(String, String)] = [("Server", ServerHeader.streamd), ("Content-Type", "application/x-fcs"), ("Connection", "keep-alive")]
        func reply(_ bytes: [UInt8]) -> Response {
            Response(version: "HTTP/1.1", status: 200, reason: "OK", headers: headers + [("Content-Length", String(bytes.count))], body: bytes)
        }
        switch verb {
        case "open":
            guard let id = rtmpt.open() else { return nil }
            return reply(Array("\(id)\n".utf8))
        case "send", "idle":
            guard parts.count >= 2, let out = rtmpt.exchange(parts[1], verb == "send" ? body : []) else {
                return Response(version: "HTTP/1.1", status: 404, reason: "Not Found", headers: headers + [("Content-Length", "0")])
            }
            return reply([0x01] + out)
        case "close":
            if parts.count >= 2 { rtmpt.close(parts[1]) }
            return reply([0x00])
        case "fcs":
            return reply([])
        default:
            return nil
        }
    }

    /// Decodes the POST side of an RTSP tunnel: base64 text, possibly split anywhere, holding RTSP
    /// requests whose replies go out on the GET channel with the same cookie.
    private func feedTunnel(context: ChannelHandlerContext, cookie: String, carry: [UInt8], rtsp: [UInt8]) {
        let alphabet = carry.filter { !($0 == 13 || $0 == 10 || $0 == 32) }
        let usable = alphabet.count - alphabet.count % 4
        guard let decoded = Data(base64Encoded: Data(alphabet[0..<usable])) else {
            context.close(promise: nil)
            return
        }
        var pending = rtsp + Array(decoded)
        guard pending.count <= 64 * 1024 else {
            context.close(promise: nil)
            return
        }
        let target = tunnels.channel(for: cookie)
        let host = context.channel.localAddress?.ipAddress ?? "0.0.0.0"
        // Media for a tunnelled session goes out on the GET side, and ends with it.
        let tunnelMedia = target.map { ConnectionMedia(registry: media, sink: $0, client: context.channel.remoteAddress) }
        while true {
            if pending.first == 0x24 {
                guard pending.count >= 4, pending.count >= 4 + (Int(pending[2]) << 8 | Int(pending[3])) else { break }
                pending.removeFirst(4 + (Int(pending[2]) << 8 | Int(pending[3])))
                continue
            }
            guard case .head(let head, let consumed) = RequestHead.parse(pending) else { break }
            guard !head.hasBadContentLength else {
                context.close(promise: nil)
                return
            }
            let length = head.contentLength ?? 0
            guard pending.count >= consumed + length else { break }
            pending.removeFirst(consumed + length)
            counters.update(listener) { $0.requests += 1 }
            let reply = RTSPResponder.respond(to: head, host: host, port: port, media: tunnelMedia).bytes
            if let target { target.writeAndFlush(target.allocator.buffer(bytes: reply), promise: nil) }
        }
        mode = .tunnelPost(cookie: cookie, carry: Array(alphabet[usable...]), rtsp: pending)
    }
}
