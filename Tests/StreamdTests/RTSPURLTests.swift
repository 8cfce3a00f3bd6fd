import NIOCore
import NIOEmbedded
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

/// Issue 11 item 12a: the URLs streamd builds from the address a request reached (Content-Base,
/// RTP-Info) bracket IPv6 hosts and unmap an IPv4 client's address on the dual-stack socket.
final class RTSPURLTests: XCTestCase {
    func testContentBaseForEveryAddressForm() {
        XCTAssertEqual(RTSPResponder.contentBase("/test", host: "192.0.2.1", port: 554), "rtsp://192.0.2.1:554/test/")
        XCTAssertEqual(RTSPResponder.contentBase("/test", host: "2001:db8::1", port: 554), "rtsp://[2001:db8::1]:554/test/")
        XCTAssertEqual(RTSPResponder.contentBase("*", host: "::1", port: 7070), "rtsp://[::1]:7070/")
        XCTAssertEqual(
            RTSPResponder.contentBase("test", host: "::ffff:192.0.2.1", port: 554), "rtsp://192.0.2.1:554/test/",
            "an IPv4 client on the dual-stack socket")
        XCTAssertEqual(RTSPResponder.contentBase("/live/", host: "::FFFF:198.51.100.7", port: 554), "rtsp://198.51.100.7:554/live/")
        XCTAssertEqual(
            RTSPResponder.contentBase("/x", host: "fe80::1%eth0", port: 554), "rtsp://[fe80::1%25eth0]:554/x/",
            "a zone is escaped (RFC 6874)")
        // An absolute request URL is the client's own: echoed, with a trailing slash.
        XCTAssertEqual(
            RTSPResponder.contentBase("rtsp://[2001:db8::1]:554/test", host: "2001:db8::1", port: 554), "rtsp://[2001:db8::1]:554/test/")
    }

    func testURLHost() {
        XCTAssertEqual(RTSPResponder.urlHost("192.0.2.1"), "192.0.2.1")
        XCTAssertEqual(RTSPResponder.urlHost("2001:db8::1"), "[2001:db8::1]")
        XCTAssertEqual(RTSPResponder.urlHost("::ffff:192.0.2.1"), "192.0.2.1")
        XCTAssertEqual(RTSPResponder.urlHost("::ffff:c000:201"), "[::ffff:c000:201]", "only the dotted form is unmapped")
        XCTAssertEqual(RTSPResponder.urlHost("stream.example.org"), "stream.example.org")
    }

    func testTheSDPOriginNamesTheAddressInItsFamily() {
        XCTAssertTrue(RTSPResponder.sessionDescription(host: "2001:db8::1").contains("\r\no=- 0 0 IN IP6 2001:db8::1\r\n"))
        XCTAssertTrue(RTSPResponder.sessionDescription(host: "::ffff:192.0.2.1").contains("\r\no=- 0 0 IN IP4 192.0.2.1\r\n"))
        XCTAssertTrue(RTSPResponder.sessionDescription(host: "192.0.2.1").contains("\r\no=- 0 0 IN IP4 192.0.2.1\r\n"))
    }

    /// The whole exchange on a connection whose local address is IPv6, or v4-mapped.
    func exchange(local: String, _ requests: [String]) throws -> [String] {
        let channel = EmbeddedChannel()
        channel.localAddress = try SocketAddress(ipAddress: local, port: 554)
        let media = MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: .rtsp, listener: "554/tcp", port: 554, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: media))
        try channel.connect(to: SocketAddress(ipAddress: local.hasPrefix("::ffff:") ? "::ffff:192.0.2.2" : "2001:db8::2", port: 40000))
            .wait()
        var replies: [String] = []
        var session = ""
        for request in requests {
            try channel.writeInbound(
                channel.allocator.buffer(bytes: Array(request.replacingOccurrences(of: "SESSION", with: session).utf8)))
            var out: [UInt8] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
            let reply = String(decoding: out, as: UTF8.self)
            if let line = reply.split(separator: "\r\n").first(where: { $0.hasPrefix("Session: ") }) {
                session = String(line.dropFirst(9).split(separator: ";")[0])
            }
            replies.append(reply)
        }
        return replies
    }

    func header(_ name: String, _ reply: String) -> String? {
        reply.split(separator: "\r\n").first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    func testRelativeRequestURLsGiveWellFormedURLsOverIPv6AndDualStack() throws {
        let requests = [
            "DESCRIBE /test RTSP/1.0\r\nCSeq: 1\r\n\r\n",
            "SETUP /test/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n",
            "PLAY /test/ RTSP/1.0\r\nCSeq: 3\r\nSession: SESSION\r\n\r\n",
            "PLAY /test/trackID=0 RTSP/1.0\r\nCSeq: 4\r\nSession: SESSION\r\n\r\n",
        ]
        let v6 = try exchange(local: "2001:db8::1", requests)
        XCTAssertEqual(header("Content-Base", v6[0]), "rtsp://[2001:db8::1]:554/test/")
        XCTAssertTrue(v6[0].contains("o=- 0 0 IN IP6 2001:db8::1\r\n"), v6[0])
        XCTAssertTrue(header("RTP-Info", v6[2])?.hasPrefix("url=rtsp://[2001:db8::1]:554/test/trackID=0;seq=") ?? false, v6[2])
        XCTAssertTrue(
            header("RTP-Info", v6[3])?.hasPrefix("url=rtsp://[2001:db8::1]:554/test/trackID=0;seq=") ?? false,
            "a relative track URL is made absolute: \(v6[3])")

        let mapped = try exchange(local: "::ffff:192.0.2.1", requests)
        XCTAssertEqual(header("Content-Base", mapped[0]), "rtsp://192.0.2.1:554/test/")
        XCTAssertTrue(mapped[0].contains("o=- 0 0 IN IP4 192.0.2.1\r\n"), mapped[0])
        XCTAssertTrue(header("RTP-Info", mapped[2])?.hasPrefix("url=rtsp://192.0.2.1:554/test/trackID=0;seq=") ?? false, mapped[2])
    }
}
