import CommandSupport
import FirewallState
import FoundationEssentials
import HostInspection
import KnockAuth
import NIOCore
import NIOPosix
import NIOSSL
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// The probe's TLS check: a TLS session (the certificate is not verified: this proves the path,
/// not the identity), then RTMP's C0/C1 for RTMPS or an HTTP GET for HTTPS inside it.
enum TLSProbe {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static let check: TLSCheck = { host, port, service, timeout in
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            let context = try NIOSSLContext(configuration: configuration)
            let promise = group.next().makePromise(of: [UInt8].self)
            let request: [UInt8] =
                service == .rtmps
                ? [0x03] + [UInt8](repeating: 0, count: 1536)
                : Array("GET / HTTP/1.0\r\nHost: \(host)\r\nUser-Agent: portctl-probe\r\n\r\n".utf8)
            let wanted = service == .rtmps ? 1537 : 12
            let bootstrap = ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(timeout * 1000)))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let name = (try? CIDR(parsing: host)) == nil ? host : nil
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: name))
                        try channel.pipeline.syncOperations.addHandler(Collector(request: request, wanted: wanted, promise: promise))
                    }
                }
            let channel = try bootstrap.connect(host: host, port: port).wait()
            defer { channel.close(promise: nil) }
            group.next().scheduleTask(in: .milliseconds(Int64(timeout * 1000))) { promise.fail(ChannelError.connectTimeout(.seconds(0))) }
            let reply = try promise.futureResult.wait()
            if service == .rtmps {
                return reply.count >= 1537 && reply[0] == 0x03
                    ? (.ok, "RTMPS: TLS, then S0 version 3 and S1") : (.openWrongProtocol, "TLS, but no RTMP handshake inside")
            }
            let text = String(decoding: reply.prefix(80), as: UTF8.self)
            return text.hasPrefix("HTTP/1.")
                ? (.ok, "HTTPS: \(text.prefix { !$0.isNewline })") : (.openWrongProtocol, "TLS, but no HTTP inside")
        } catch let error as NIOSSLError {
            return (.openWrongProtocol, "open, but no TLS handshake (\(error))")
        } catch {
            return (.openWrongProtocol, "open, but no TLS session within \(timeout)s (\(error))")
        }
    }

    /// Sends the request once the TLS session is up, then gathers bytes until `wanted` arrive.
    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let request: [UInt8]
        let wanted: Int
        let promise: EventLoopPromise<[UInt8]>
        var received: [UInt8] = []

        init(request: [UInt8], wanted: Int, promise: EventLoopPromise<[UInt8]>) {
            self.request = request
            self.wanted = wanted
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: request)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += unwrapInboundIn(data).readableBytesView
            if received.count >= wanted { promise.succeed(received) }
        }

        func channelInactive(context: ChannelHandlerContext) { promise.succeed(received) }
        func errorCaught(context: ChannelHandlerContext, error: Error) { promise.fail(error) }
    }
}
