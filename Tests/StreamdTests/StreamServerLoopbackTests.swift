import Foundation
import KnockAuth
import Logging
import PortModel
import StreamWire
import XCTest

@testable import streamd

/// streamd's whole server, started the way `streamd` starts it (`StreamServer.start`, then
/// `serve`), on ports the kernel picks on loopback, and spoken to over real sockets: the path
/// EmbeddedChannel tests do not take (bootstrap, pipeline set-up, event loops, the UDP socket).
final class StreamServerLoopbackTests: XCTestCase {
    let key = KnockKey(fileText: "loopback-test-key")!

    func spec(_ name: String, _ transport: Transport, _ service: Service) throws -> ListenerSpec {
        // The range only names the listener: the kernel picks the port (`anyPort`).
        ListenerSpec(
            name: name, transport: transport, range: PortRange(single: try PortNumber(9)), service: service, labels: [],
            bindAddress: "127.0.0.1",
            anyPort: true)
    }

    func testRTSPHTTPAndTheKnockAnswerOnRealSockets() throws {
        let server = StreamServer(key: key, threads: 2, logger: Logger(label: "test") { _ in LogCapture() })
        defer { server.shutdown(grace: 0) }
        let specs = [try spec("rtsp", .tcp, .rtsp), try spec("http", .tcp, .http), try spec("knock", .udp, .broadcast)]
        XCTAssertEqual(server.start(specs), 3)
        server.serve()
        let ports = try specs.map { try XCTUnwrap(server.localPorts(of: $0.name).first, $0.name) }
        XCTAssertFalse(ports.contains(0))

        // RTSP: OPTIONS, then DESCRIBE on the same kept-alive connection.
        let rtsp = try LoopbackClient.connectTCP(ports[0])
        defer { close(rtsp) }
        LoopbackClient.send(rtsp, "OPTIONS rtsp://127.0.0.1/test RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        XCTAssertEqual(
            LoopbackClient.reply(rtsp),
            "RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: streamd/0.1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n\r\n"
        )
        LoopbackClient.send(rtsp, "DESCRIBE rtsp://127.0.0.1/test RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n")
        let describe = LoopbackClient.reply(rtsp)
        XCTAssertTrue(
            describe.hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 2\r\nServer: streamd/0.1\r\nContent-Base: rtsp://127.0.0.1/test/\r\n"), describe)
        XCTAssertTrue(describe.hasSuffix("\r\n\r\n" + RTSPResponder.sessionDescription(host: "127.0.0.1")), describe)

        // HTTP: the test resource, then the server closes the connection.
        let http = try LoopbackClient.connectTCP(ports[1])
        defer { close(http) }
        LoopbackClient.send(http, "GET /streamd/test HTTP/1.0\r\n\r\n")
        let page = String(decoding: LoopbackClient.receive(http) { _ in false }, as: UTF8.self)
        XCTAssertTrue(page.hasPrefix("HTTP/1.0 200 OK\r\nServer: streamd/0.1\r\nConnection: close\r\n"), page)
        XCTAssertTrue(
            page.hasSuffix("\r\n\r\n" + String(decoding: HTTPResponder.testResource, as: UTF8.self)), "whole, then closed: \(page)")

        // The UDP knock: answered, signed with the key.
        let request = Knock.Request.random(port: UInt16(ports[2]))
        let reply = try XCTUnwrap(LoopbackClient.exchangeUDP(ports[2], request.bytes), "no reply to the knock")
        XCTAssertTrue(Knock.verify(reply: reply, for: request, key: key.key))

        let counted = Dictionary(uniqueKeysWithValues: server.counters.listeners.map { ($0.name, ($0.requests, $0.knocks)) })
        XCTAssertEqual(counted["rtsp"]?.0, 2)
        XCTAssertEqual(counted["http"]?.0, 1)
        XCTAssertEqual(counted["knock"]?.1, 1)
    }
}
