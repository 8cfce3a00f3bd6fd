import FirewallState
import FoundationEssentials
import KnockAuth
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PortModel
import StreamWire

/// streamd's server: TCP listeners that answer in each port's protocol, UDP sockets and range
/// redirects that answer the knock. Built by `start`, which tests call with their own specs and port 0.
final class StreamServer: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let counters = Counters()
    let tunnels = TunnelRegistry()
    let rtmpt = RTMPTRegistry()
    let key: KnockKey
    let limits: ConnectionLimits
    let logger: Logger
    /// Every media session, and the 20 ms pump that sends them; the media range's UDP sockets live on its loop.
    let media: MediaRegistry
    /// TLS for RTMPS and HTTPS ports; nil serves them without TLS.
    var tls: NIOSSLContext?
    /// The bound sockets, each with its listener's name.
    private let channels = NIOLockedValueBox<[(listener: String, channel: Channel)]>([])
    private let limiter = NIOLockedValueBox(KnockRateLimiter())
    private let errorLogs = NIOLockedValueBox<[String: SendErrorLog]>([:])
    private(set) var redirect: RangeRedirect?

    init(
        key: KnockKey, limits: ConnectionLimits = ConnectionLimits(), sessionsMax: Int = 1000, threads: Int = System.coreCount,
        logger: Logger
    ) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.media = MediaRegistry(loop: group.next(), maxSessions: sessionsMax)
        self.media.counters = counters
        self.key = key
        self.limits = limits
        self.logger = logger
    }

    /// Binds every spec; a port that cannot be bound is recorded with why, and the rest go on.
    /// Returns how many listeners bound.
    @discardableResult
    func start(_ specs: [ListenerSpec], nameOwner: (Int, Transport) -> String? = { _, _ in nil }) -> Int {
        var bound = 0
        var redirects: [(PortRange, target: UInt16)] = []
        for spec in specs {
            counters.register(
                Counters.Listener(
                    name: spec.name, transport: spec.transport, ports: spec.range.description, service: spec.service, labels: spec.labels,
                    bound: false, error: nil))
            let ports: [Int]
            if spec.anyPort {
                ports = [0]
            } else if spec.transport == .udp, spec.range.count > RangeRedirect.threshold {
                ports = [Int(spec.range.low.value)]
                redirects.append((spec.range, target: spec.range.low.value))
            } else {
                ports = Array(Int(spec.range.low.value)...Int(spec.range.high.value))
            }
            var errors: [String] = []
            for port in ports {
                do {
                    try bind(spec, port: port)
                } catch {
                    var reason = "\(error)"
                    if let io = error as? IOError, io.errnoCode == EADDRINUSE {
                        reason = "address in use" + (nameOwner(port, spec.transport).map { ": \($0)" } ?? "")
                    }
                    errors.append("port \(port): \(reason)")
                }
            }
            let ok = errors.count < ports.count
            if ok { bound += 1 }
            let summary = errors.isEmpty ? nil : errors.prefix(3).joined(separator: "; ") + (errors.count > 3 ? "; ..." : "")
            counters.update(spec.name) { listener in
                listener.bound = ok
                listener.error = summary
            }
            if ok {
                logger.info(
                    "listening",
                    metadata: ["listener": "\(spec.name)", "service": "\(spec.service.rawValue)", "address": "\(spec.bindAddress)"])
            }
            for error in errors { logger.error("cannot bind", metadata: ["listener": "\(spec.name)", "reason": "\(error)"]) }
        }
        if !redirects.isEmpty {
            do {
                let redirect = RangeRedirect()
                try redirect.install(redirects)
                self.redirect = redirect
                do {
                    _ = try RangeRedirect.startCleanupHelper()
                } catch {
                    logger.warning(
                        "the range redirect will outlive streamd",
                        metadata: ["reason": "\(error)", "fix": "nft delete table inet \(RangeRedirect.table)"])
                }
                logger.info(
                    "range redirect installed",
                    metadata: [
                        "table": "inet \(RangeRedirect.table)",
                        "ranges": "\(redirects.map { "\($0.0)/udp->\($0.target)" }.joined(separator: ", "))",
                    ])
            } catch {
                logger.error(
                    "cannot answer whole UDP ranges",
                    metadata: ["reason": "\(error.message)", "hint": "needs CAP_NET_ADMIN; only each range's first port answers"])
                let message = error.message
                for (range, _) in redirects {
                    counters.update("\(range)/udp") {
                        $0.error = "only port \(range.low) answers: the range redirect needs CAP_NET_ADMIN (\(message))"
                    }
                }
            }
        }
        return bound
    }

    private func bind(_ spec: ListenerSpec, port: Int) throws {
        switch spec.transport {
        case .tcp:
            let counters = self.counters
            let tunnels = self.tunnels
            let rtmpt = self.rtmpt
            let limits = self.limits
            let media = self.media
            let name = spec.name
            let service = spec.service
            let tls = (service == .rtmps || service == .https) ? self.tls : nil
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.backlog, value: 1024)
                // Nothing is accepted until `serve()`, after root has been dropped.
                .serverChannelOption(ChannelOptions.autoRead, value: false)
                .childChannelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteCounter(counters: counters, listener: name))
                        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: .seconds(limits.idleTimeout)),
                            ConnectionHandler(
                                service: service, listener: name, port: port, counters: counters, tunnels: tunnels, rtmpt: rtmpt,
                                limits: limits,
                                media: media),
                        ])
                    }
                }
            let channel = try bindWithFallback(spec.bindAddress) { try bootstrap.bind(host: $0, port: port).wait() }
            channels.withLockedValue { $0.append((spec.name, channel)) }
        case .udp:
            let key = self.key
            let counters = self.counters
            let limiter = self.limiter
            let name = spec.name
            // The media range's sockets both answer the knock and send RTP, from the pump's loop.
            let isMedia = spec.service == .rtp
            let media = isMedia ? self.media : nil
            let errors = sendErrors(spec.name)
            // Bound by streamd and only read by NIO: replies and RTP go out with sendto(), so that no
            // send error can close the socket (UDPSocket says why).
            let socket = try bindWithFallback(spec.bindAddress) { address in
                try UDPSocket.bind(
                    host: address, port: port, on: isMedia ? self.media.loop : group.next(),
                    // Room for a tick's burst: every session sharing this port sends in the same 20 ms.
                    sendBuffer: isMedia ? 4 << 20 : nil, errors: errors
                ) { socket in
                    KnockHandler(key: key, listener: name, counters: counters, limiter: limiter, socket: socket, media: media)
                }
            }
            channels.withLockedValue { $0.append((spec.name, socket.channel)) }
            if isMedia, let bound = socket.channel.localAddress?.port { self.media.registerMediaPort(bound, socket) }
        }
    }

    /// One send-error log per listener, shared by all the sockets of its range.
    private func sendErrors(_ listener: String) -> SendErrorLog {
        errorLogs.withLockedValue { logs in
            if let log = logs[listener] { return log }
            let log = SendErrorLog(listener: listener, counters: counters, logger: logger)
            logs[listener] = log
            return log
        }
    }

    /// "::" is dual-stack where IPv6 exists; on a host without it, fall back to IPv4's wildcard.
    private func bindWithFallback<Bound>(_ address: String, _ body: (String) throws -> Bound) throws -> Bound {
        do {
            return try body(address)
        } catch {
            guard address == "::" else { throw error }
            return try body("0.0.0.0")
        }
    }

    /// Starts accepting connections and reading datagrams. Called after privileges are dropped, so
    /// that no request is ever handled as root.
    func serve() {
        for (_, channel) in channels.withLockedValue({ $0 }) {
            channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    /// The ports a listener actually bound: the kernel's choice for a spec with `anyPort`.
    func localPorts(of listener: String) -> [Int] {
        channels.withLockedValue { $0.filter { $0.listener == listener }.compactMap { $0.channel.localAddress?.port } }
    }

    /// Stops accepting, lets open connections finish for up to `grace` seconds, then stops.
    func shutdown(grace: Double = 2) {
        let all = channels.withLockedValue { $0 }
        for (_, channel) in all { try? channel.close().wait() }
        let deadline = Date().addingTimeInterval(grace)
        while counters.openConnections > 0, Date() < deadline { usleep(50_000) }
        try? group.syncShutdownGracefully()
    }
}
