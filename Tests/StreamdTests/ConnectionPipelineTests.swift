import NIOCore
import NIOEmbedded
import PortModel
import XCTest

@testable import streamd

/// Which handlers a connection's pipeline holds, and how a request swaps one protocol's handler
/// for another's (issue 12: one handler per protocol, behind the framer).
final class ConnectionPipelineTests: XCTestCase {
    let tunnels = TunnelRegistry()

    func channel(_ service: Service) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: service, listener: "x/tcp", port: 80, counters: Counters(), tunnels: tunnels, rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(),
                media: MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        return channel
    }

    func holds<Handler: ChannelHandler>(_ channel: EmbeddedChannel, _ type: Handler.Type) -> Bool {
        (try? channel.pipeline.syncOperations.handler(type: type)) != nil
    }

    func send(_ channel: EmbeddedChannel, _ text: String) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: Array(text.utf8)))
        while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
    }

    func testEachServiceStartsWithItsOwnHandlerBehindTheFramer() throws {
        let expected: [(Service, (EmbeddedChannel) -> Bool)] = [
            (.rtsp, { self.holds($0, RTSPHandler.self) }), (.rtspHTTP, { self.holds($0, TunnelHandler.self) }),
            (.http, { self.holds($0, HTTPHandler.self) }), (.https, { self.holds($0, HTTPHandler.self) }),
            (.rtmp, { self.holds($0, RTMPHandler.self) }), (.rtmpt, { self.holds($0, RTMPTHandler.self) }),
            (.icy, { self.holds($0, ICYHandler.self) }), (.mms, { self.holds($0, MMSHandler.self) }),
            (.admin, { self.holds($0, AdminHandler.self) }),
        ]
        for (service, holdsItsHandler) in expected {
            let channel = try channel(service)
            XCTAssertTrue(holdsItsHandler(channel), "\(service)")
            XCTAssertTrue(holds(channel, ByteToMessageHandler<StreamFramer>.self), "\(service)")
        }
        let held = try channel(.pna)
        XCTAssertTrue(holds(held, ByteToMessageHandler<StreamFramer>.self))
        XCTAssertFalse(holds(held, RTSPHandler.self) || holds(held, HTTPHandler.self), "PNA is held without a protocol handler")
    }

    func testAnHTTPClientOnTheRTMPPortSwapsInTheHTTPHandler() throws {
        let channel = try channel(.rtmp)
        try channel.writeInbound(channel.allocator.buffer(bytes: Array("GET / HTTP/1.0\r\n\r\n".utf8)))
        let reply = try XCTUnwrap(try channel.readOutbound(as: ByteBuffer.self))
        XCTAssertTrue(String(decoding: reply.readableBytesView, as: UTF8.self).hasPrefix("HTTP/1.0 200 OK"))
        XCTAssertFalse(holds(channel, RTMPHandler.self))
    }

    func testATunnelsTwoSidesSwapInTheirHandlers() throws {
        let get = try channel(.rtspHTTP)
        try send(get, "GET /t HTTP/1.0\r\nx-sessioncookie: k\r\n\r\n")
        XCTAssertTrue(holds(get, TunnelGetHandler.self))
        XCTAssertFalse(holds(get, TunnelHandler.self))
        let post = try channel(.rtspHTTP)
        try send(post, "POST /t HTTP/1.0\r\nx-sessioncookie: k\r\nContent-Length: 32767\r\n\r\n")
        XCTAssertTrue(holds(post, TunnelPostHandler.self))
        XCTAssertNotNil(tunnels.channel(for: "k"))
        try get.close().wait()
        XCTAssertNil(tunnels.channel(for: "k"), "the GET side gives its cookie up when it closes")
    }
}
