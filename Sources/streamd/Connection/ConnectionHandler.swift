import NIOCore
import PortModel

/// The first handler of a TCP connection: admits it (the connection cap), puts the framer and
/// the port's protocol handler behind itself, and when the connection closes, ends its media.
/// Idle connections are closed here, unless they receive a stream.
final class ConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let connection: Connection
    let limits: ConnectionLimits
    private var counted = false

    init(
        service: Service, listener: String, port: Int, counters: Counters, tunnels: TunnelRegistry, rtmpt: RTMPTRegistry,
        limits: ConnectionLimits, media: MediaRegistry
    ) {
        self.limits = limits
        connection = Connection(
            service: service, listener: listener, port: port, counters: counters, tunnels: tunnels, rtmpt: rtmpt, media: media,
            framer: StreamFramer(service: service, headTimeout: limits.headTimeout))
    }

    /// The handler that answers a port's service behind the framer; nil for the services streamd
    /// holds without speaking (the framer drops what they send).
    static func protocolHandler(for connection: Connection) -> ChannelHandler? {
        switch connection.service {
        case .rtsp: return RTSPHandler(connection)
        case .rtspHTTP: return TunnelHandler(connection)
        case .http, .https: return HTTPHandler(connection)
        case .rtmp, .rtmps: return RTMPHandler(connection)
        case .rtmpt: return RTMPTHandler(connection)
        case .icy: return ICYHandler(connection)
        case .mms: return MMSHandler(connection)
        case .admin: return AdminHandler(connection)
        case .pna, .other, .srt, .webrtc, .rtp, .broadcast: return nil
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        do {
            let pipeline = context.pipeline.syncOperations
            if let handler = Self.protocolHandler(for: connection) { try pipeline.addHandler(handler, position: .after(self)) }
            try pipeline.addHandler(ByteToMessageHandler(connection.framer), position: .after(self))
        } catch {
            context.close(promise: nil)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        guard connection.counters.openConnection(cap: limits.maxConnections) else {
            context.close(promise: nil)
            return
        }
        counted = true
        connection.counters.update(connection.listener) { $0.connections += 1 }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted { connection.counters.closeConnection() }
        // Media sent on this connection (or, for UDP, set up on it) ends with it.
        if connection.usesMedia { connection.media.removeAll(owner: ObjectIdentifier(context.channel)) }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A player receiving a stream may stay silent for long (ICY, RTMP): it is not idle.
        guard event is IdleStateHandler.IdleStateEvent else { return context.fireUserInboundEventTriggered(event) }
        if !connection.media.hasSessions(owner: ObjectIdentifier(context.channel)) { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A bad client never takes the server down: close this connection only.
        context.close(promise: nil)
    }
}
