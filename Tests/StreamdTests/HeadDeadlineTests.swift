import NIOCore
import NIOEmbedded
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

/// Issue 11 item 12c: a request head (and its body) must be complete within the head deadline
/// (`ConnectionLimits.headTimeout`, 10 s), whether or not more bytes come; the EmbeddedEventLoop's
/// clock is moved, nothing waits.
final class HeadDeadlineTests: XCTestCase {
    func channel(_ service: Service = .rtsp) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: service, listener: "554/tcp", port: 554, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        return channel
    }

    func send(_ channel: EmbeddedChannel, _ text: String) throws -> String {
        try channel.writeInbound(channel.allocator.buffer(bytes: Array(text.utf8)))
        var out: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return String(decoding: out, as: UTF8.self)
    }

    func testHalfAHeadThenSilenceIsClosedAtTheDeadline() throws {
        for service in [Service.rtsp, .http, .rtspHTTP, .icy, .mms, .admin, .rtmpt] {
            let channel = try channel(service)
            XCTAssertEqual(try send(channel, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n"), "")
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(9_900))
            XCTAssertTrue(channel.isActive, "\(service): open before the deadline")
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
            XCTAssertFalse(channel.isActive, "\(service): closed at 10 s, with no further byte, not at the 60 s idle timeout")
        }
    }

    func testADripFedHeadIsClosedTenSecondsAfterTheConnection() throws {
        let channel = try channel()
        for second in 0..<9 {
            XCTAssertEqual(try send(channel, second == 0 ? "OP" : "T"), "")
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        }
        XCTAssertTrue(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1_100))
        XCTAssertFalse(channel.isActive, "slowloris: closed at 10 s, between two bytes")
    }

    func testTheDeadlineCoversTheBody() throws {
        let channel = try channel(.http)
        XCTAssertEqual(try send(channel, "POST / HTTP/1.0\r\nContent-Length: 10\r\n\r\n12345"), "")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(10_100))
        XCTAssertFalse(channel.isActive, "a head whose body never comes is closed at the same deadline")
    }

    func testAKeptAliveRTSPConnectionMayBeSilentBetweenRequests() throws {
        let channel = try channel()
        XCTAssertTrue(try send(channel, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n").hasPrefix("RTSP/1.0 200 OK"))
        // A player between keepalives: silence is the idle timeout's business (60 s), not the head deadline's.
        channel.embeddedEventLoop.advanceTime(by: .seconds(30))
        XCTAssertTrue(channel.isActive, "no deadline runs while no request is begun")
        // The next request's deadline runs from its first byte.
        XCTAssertEqual(try send(channel, "GET_PARAMETER * RTSP/1.0\r\n"), "")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(9_900))
        XCTAssertTrue(try send(channel, "CSeq: 2\r\n\r\n").hasPrefix("RTSP/1.0 200 OK"), "complete in time: answered")
        channel.embeddedEventLoop.advanceTime(by: .seconds(20))
        XCTAssertTrue(channel.isActive, "the answered request's deadline was cancelled")
        XCTAssertEqual(try send(channel, "OPTIONS * RTSP/1.0\r\n"), "")
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(10_100))
        XCTAssertFalse(channel.isActive, "a begun request left half-sent is closed at its deadline")
    }

    func testAConnectionThatNeverSendsIsClosedAtTheDeadlineToo() throws {
        let channel = try channel()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(10_100))
        XCTAssertFalse(channel.isActive, "the first head is due within 10 s of the connection")
    }

    func testTunnelsAndStreamsAreNotHeldToTheDeadline() throws {
        let get = try channel(.rtspHTTP)
        XCTAssertTrue(try send(get, "GET /test HTTP/1.0\r\nx-sessioncookie: abc\r\n\r\n").hasPrefix("HTTP/1.0 200 OK"))
        let listener = try channel(.icy)
        XCTAssertTrue(try send(listener, "GET /test.mp3 HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 200 OK"))
        let rtmp = try channel(.rtmp)
        for channel in [get, listener, rtmp] { channel.embeddedEventLoop.advanceTime(by: .seconds(30)) }
        XCTAssertTrue(get.isActive, "a tunnel's GET side sends nothing more")
        XCTAssertTrue(listener.isActive, "an ICY listener only receives")
        XCTAssertTrue(rtmp.isActive, "RTMP speaks no heads")
    }
}
