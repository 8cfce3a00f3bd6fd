import NIOCore
import NIOEmbedded
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

/// Every protocol streamd speaks, driven through its real handler on an EmbeddedChannel:
/// exact response bytes for good requests, 400/501 or a close for bad ones.
final class ProtocolTests: XCTestCase {
    func channel(_ service: Service, port: Int = 554) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: service, listener: "\(port)/tcp", port: port, counters: Counters(), tunnels: TunnelRegistry(),
                rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 554)).wait()
        return channel
    }

    func send(_ channel: EmbeddedChannel, _ text: String) throws -> String {
        try send(channel, Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) }.joined()
    }

    func send(_ channel: EmbeddedChannel, _ bytes: [UInt8]) throws -> [[UInt8]] {
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        var out: [[UInt8]] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out.append(Array(buffer.readableBytesView)) }
        return out
    }

    func testRTSPOptionsEchoesCSeqAndListsMethods() throws {
        let reply = try send(try channel(.rtsp), "OPTIONS rtsp://192.0.2.1:554/test RTSP/1.0\r\nCSeq: 7\r\nUser-Agent: curl\r\n\r\n")
        XCTAssertEqual(
            reply,
            "RTSP/1.0 200 OK\r\nCSeq: 7\r\nServer: streamd/0.1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n\r\n"
        )
    }

    func testRTSPToleratesNmapsProbeWithoutCSeq() throws {
        let reply = try send(try channel(.rtsp), "OPTIONS / RTSP/1.0\r\n\r\n")
        XCTAssertEqual(
            reply,
            "RTSP/1.0 200 OK\r\nServer: streamd/0.1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n\r\n")
    }

    func testRTSPDescribeGivesAValidSDP() throws {
        let sdp =
            "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=streamd test stream\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\nm=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=0\r\n"
        let reply = try send(try channel(.rtsp), "DESCRIBE rtsp://h:554/live/test RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n")
        XCTAssertEqual(
            reply,
            "RTSP/1.0 200 OK\r\nCSeq: 2\r\nServer: streamd/0.1\r\nContent-Base: rtsp://h:554/live/test/\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n"
                + sdp)
    }

    func testRTSPKeepsTheConnectionForSeveralRequests() throws {
        let channel = try channel(.rtsp)
        let both = try send(
            channel, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\nGET_PARAMETER rtsp://h/ RTSP/1.0\r\nCSeq: 2\r\nSession: 12345\r\n\r\n")
        // A keepalive for a session streamd does not have is 454 (RFC 2326), and the connection stays.
        XCTAssertTrue(both.hasSuffix("RTSP/1.0 454 Session Not Found\r\nCSeq: 2\r\nServer: streamd/0.1\r\n\r\n"), both)
        XCTAssertTrue(channel.isActive)
    }

    func testRTSPUnknownMethodIs501AndGarbageIs400() throws {
        XCTAssertEqual(
            try send(try channel(.rtsp), "FROBNICATE rtsp://h/ RTSP/1.0\r\nCSeq: 3\r\n\r\n"),
            "RTSP/1.0 501 Not Implemented\r\nCSeq: 3\r\nServer: streamd/0.1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n\r\n"
        )
        let channel = try channel(.rtsp)
        XCTAssertEqual(try send(channel, "this is not rtsp\r\n\r\n"), "RTSP/1.0 400 Bad Request\r\nServer: streamd/0.1\r\n\r\n")
        XCTAssertFalse(channel.isActive, "closed after a malformed request")
    }

    func testHTTPStatusPageTestResourceAnd404() throws {
        let page = try send(try channel(.http, port: 8080), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(
            page.hasPrefix("HTTP/1.0 200 OK\r\nServer: streamd/0.1\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\n"))
        XCTAssertTrue(page.contains("8080/tcp"))
        XCTAssertEqual(
            try send(try channel(.http, port: 8080), "GET /streamd/test HTTP/1.0\r\n\r\n"),
            "HTTP/1.0 200 OK\r\nServer: streamd/0.1\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(HTTPResponder.testResource.count)\r\n\r\n"
                + String(decoding: HTTPResponder.testResource, as: UTF8.self))
        XCTAssertTrue(try send(try channel(.http), "GET /nope HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 404 Not Found\r\n"))
        XCTAssertTrue(try send(try channel(.http), "DELETE / HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 405 Method Not Allowed\r\n"))
        XCTAssertEqual(
            try send(try channel(.http), "GET\r\n\r\n"),
            "HTTP/1.0 400 Bad Request\r\nServer: streamd/0.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    }

    func testRTSPOverHTTPTunnel() throws {
        let tunnels = TunnelRegistry()
        func tunnelChannel() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(
                ConnectionHandler(
                    service: .rtspHTTP, listener: "80/tcp", port: 80, counters: Counters(), tunnels: tunnels, rtmpt: RTMPTRegistry(),
                    limits: ConnectionLimits(), media: MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 554)).wait()
            return channel
        }
        let get = try tunnelChannel()
        let answer = try send(get, "GET /test HTTP/1.0\r\nx-sessioncookie: abc123\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n")
        XCTAssertEqual(
            answer,
            "HTTP/1.0 200 OK\r\nServer: streamd/0.1\r\nConnection: close\r\nCache-Control: no-cache\r\nPragma: no-cache\r\nContent-Type: application/x-rtsp-tunnelled\r\n\r\n"
        )
        let post = try tunnelChannel()
        let rtsp = "OPTIONS rtsp://h:80/test RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        let encoded = Array(Data(rtsp.utf8).base64EncodedString().utf8)
        // Split the base64 at an awkward place, as TCP may.
        XCTAssertEqual(
            try send(
                post,
                Array(
                    "POST /test HTTP/1.0\r\nx-sessioncookie: abc123\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n"
                        .utf8) + encoded.prefix(10)), [])
        XCTAssertEqual(try send(post, Array(encoded.dropFirst(10))), [], "the POST side never answers")
        var replies: [String] = []
        while let buffer = try get.readOutbound(as: ByteBuffer.self) {
            replies.append(String(decoding: buffer.readableBytesView, as: UTF8.self))
        }
        XCTAssertEqual(
            replies.joined(),
            "RTSP/1.0 200 OK\r\nCSeq: 1\r\nServer: streamd/0.1\r\nPublic: OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER\r\n\r\n"
        )
        // A plain GET on the tunnel port is a status page.
        XCTAssertTrue(try send(try tunnelChannel(), "GET / HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.0 200 OK\r\n"))
    }

    func testICYListenerAndSources() throws {
        let listenerChannel = try channel(.icy, port: 8000)
        let listener = try send(listenerChannel, Array("GET /test.mp3 HTTP/1.0\r\nIcy-MetaData: 1\r\n\r\n".utf8)).flatMap { $0 }
        let head =
            "HTTP/1.0 200 OK\r\nicy-name: streamd test stream\r\nicy-genre: test\r\nicy-br: 128\r\nicy-pub: 0\r\nContent-Type: audio/mpeg\r\nServer: streamd/0.1\r\n\r\n"
        XCTAssertEqual(listener, Array(head.utf8), "the head first; the media pump sends the frames")
        // The pump's first tick sends the burst (about a second of frames), then one every 26.12 ms.
        listenerChannel.embeddedEventLoop.advanceTime(by: .milliseconds(20))
        let burst = try send(listenerChannel, [UInt8]()).flatMap { $0 }
        XCTAssertEqual(burst.count, 417 * ICYResponder.burstFrames)
        XCTAssertEqual(Array(burst.prefix(4)), [0xFF, 0xFB, 0x90, 0xC0], "silent MP3 frames")
        XCTAssertTrue(listenerChannel.isActive)
        let icy = try send(try channel(.icy, port: 8000), Array("GET / ICY/1.0\r\n\r\n".utf8)).flatMap { $0 }
        XCTAssertTrue(
            String(decoding: icy.prefix(12), as: UTF8.self).hasPrefix("ICY 200 OK\r\n"), String(decoding: icy.prefix(40), as: UTF8.self))
        let source = try channel(.icy, port: 8000)
        XCTAssertEqual(
            try send(source, "SOURCE /live HTTP/1.0\r\nAuthorization: Basic c291cmNlOmhhY2ttZQ==\r\n\r\n"),
            "HTTP/1.0 200 OK\r\nServer: streamd/0.1\r\n\r\n")
        XCTAssertEqual(try send(source, Array(repeating: 0xFF, count: 4096)), [], "source audio is discarded")
        XCTAssertTrue(source.isActive)
        XCTAssertEqual(
            try send(try channel(.icy, port: 8000), "PUT /live HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n")
        XCTAssertTrue(
            try send(try channel(.icy, port: 8000), "OPTIONS * RTSP/1.0\r\nCSeq: 4\r\n\r\n").hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 4\r\n"),
            "DSS also used 8000 for RTSP")
    }

    func testMMSOverHTTPAndMMST() throws {
        let reply = try send(
            try channel(.mms, port: 1755),
            "GET /test HTTP/1.0\r\nUser-Agent: NSPlayer/4.1.0.3856\r\nPragma: xClientGUID={3300AD50-2C39-46c0-AE0A-60000000d000}\r\n\r\n")
        XCTAssertTrue(reply.hasPrefix("HTTP/1.0 200 OK\r\nServer: Cougar/9.01.01.3814\r\n"), reply)
        XCTAssertTrue(reply.contains("\r\nContent-Type: application/vnd.ms.wms-hdr.asfv1\r\n"), reply)
        XCTAssertTrue(reply.contains("\r\n\r\n$H"), "the ASF header in a $H chunk")
        var mmst: [UInt8] = [1, 0, 0, 0, 0xCE, 0xFA, 0x0B, 0xB0, 40, 0, 0, 0] + Array("MMS ".utf8)
        mmst += [UInt8](repeating: 0, count: 20) + [1, 0, 3, 0] + [UInt8](repeating: 0, count: 16)
        let binary = try send(try channel(.mms, port: 1755), mmst).flatMap { $0 }
        XCTAssertEqual(Array(binary[4..<8]), [0xCE, 0xFA, 0x0B, 0xB0])
        XCTAssertEqual(Array(binary[12..<16]), Array("MMS ".utf8))
        XCTAssertEqual(Array(binary[36..<40]), [0x01, 0x00, 0x04, 0x00], "nmap's WMSRequest match: 01 00 04 00 at 36")
    }

    /// Counters for RTSP on 554/tcp, bound, and the DSS media range, which could not be bound.
    static func twoListeners() -> Counters {
        let counters = Counters()
        counters.register(
            Counters.Listener(name: "554/tcp", transport: .tcp, ports: "554", service: .rtsp, labels: ["dss/rtsp"], bound: true, error: nil)
        )
        counters.register(
            Counters.Listener(
                name: "6970-6999/udp", transport: .udp, ports: "6970-6999", service: .rtp, labels: ["dss/media"], bound: false,
                error: "port 6970: address in use"))
        return counters
    }

    func testAdminJSONListsListeners() throws {
        let counters = Self.twoListeners()
        counters.update("554/tcp") { $0.requests = 3 }
        let reply = AdminResponder.respond(
            to: RequestHead(method: "GET", target: "/", version: "HTTP/1.1", headers: [("Accept", "application/json")]), counters: counters)
        let json = try JSONSerialization.jsonObject(with: Data(reply.body)) as! [String: Any]
        let listeners = json["listeners"] as! [[String: Any]]
        XCTAssertEqual(listeners.map { $0["name"] as! String }, ["554/tcp", "6970-6999/udp"])
        XCTAssertEqual(listeners[0]["requests"] as? Int, 3)
        XCTAssertEqual(listeners[1]["bound"] as? Bool, false)
        XCTAssertEqual(listeners[1]["error"] as? String, "port 6970: address in use")
        let html = AdminResponder.respond(to: RequestHead(method: "GET", target: "/", version: "HTTP/1.1", headers: []), counters: counters)
        XCTAssertTrue(String(decoding: html.body, as: UTF8.self).contains("<td>6970-6999/udp</td>"))
    }

    func testAdminMetricsAreThePrometheusTextFormat() throws {
        let counters = Self.twoListeners()
        counters.update("554/tcp") {
            $0.connections = 2
            $0.bytesSent = 900
        }
        counters.update("6970-6999/udp") {
            $0.knocks = 5
            $0.dropped = 1
        }
        counters.countSession("rtsp")
        counters.countUDPBytes(120)
        let reply = AdminResponder.respond(
            to: RequestHead(method: "GET", target: "/metrics?x=1", version: "HTTP/1.1", headers: []), counters: counters)
        XCTAssertEqual(reply.headers.first { $0.0 == "Content-Type" }?.1, "text/plain; version=0.0.4; charset=utf-8")
        let text = String(decoding: reply.body, as: UTF8.self)
        for expected in [
            #"streamd_connections_total{listener="554/tcp",service="rtsp"} 2"#,
            #"streamd_sent_bytes_total{listener="554/tcp",service="rtsp"} 900"#,
            #"streamd_sent_bytes_total{listener="udp",service="udp"} 120"#, #"streamd_sessions_total{protocol="rtsp"} 1"#,
            #"streamd_knocks_answered_total{listener="6970-6999/udp",service="rtp"} 5"#,
            #"streamd_knocks_refused_total{listener="6970-6999/udp",service="rtp"} 1"#, "streamd_bind_failures 1",
            #"streamd_listener_up{listener="6970-6999/udp",service="rtp"} 0"#, "# TYPE streamd_connections_total counter",
        ] {
            XCTAssertTrue(text.contains(expected + "\n"), "\(expected) in \(text)")
        }
    }
}
