import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import TestSupport
import XCTest

@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
@testable import StreamWire
@testable import streamd

/// streamd counts what a UDP player sends to its session's server pair (punch packets, RTCP
/// receiver reports) and says so on GET_PARAMETER and TEARDOWN (`X-Streamd-RTCP: received=N`):
/// the probe's proof that the media range is open inbound, not only outbound (issue 11, item 8).
final class RTCPReceivedTests: XCTestCase {
    func send(_ channel: EmbeddedChannel, _ text: String) throws -> String {
        try channel.writeInbound(channel.allocator.buffer(bytes: Array(text.utf8)))
        var out: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return String(decoding: out, as: UTF8.self)
    }

    func testDatagramsFromThePlayerAreCountedAndReported() throws {
        let rtpSocket = EmbeddedChannel()
        let rtcpSocket = EmbeddedChannel()
        for socket in [rtpSocket, rtcpSocket] { try socket.connect(to: SocketAddress(ipAddress: "0.0.0.0", port: 9)).wait() }
        let control = EmbeddedChannel()
        let media = MediaRegistry(loop: control.embeddedEventLoop, maxSessions: 8)
        media.registerMediaPort(6970, EmbeddedUDPSender(rtpSocket))
        media.registerMediaPort(6971, EmbeddedUDPSender(rtcpSocket))
        try control.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: .rtsp, listener: "554/tcp", port: 554, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: media))
        try control.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        // The media range's socket, with streamd's knock handler in front (it hands RTP/RTCP to the registry).
        let range = EmbeddedChannel()
        try range.pipeline.syncOperations.addHandler(
            KnockHandler(
                key: try XCTUnwrap(KnockKey(fileText: "rtcp-test-key")), listener: "6971/udp", counters: Counters(),
                limiter: NIOLockedValueBox(KnockRateLimiter()),
                socket: EmbeddedUDPSender(range), media: media))

        let setup = try send(
            control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n")
        let id = try XCTUnwrap(
            setup.split(separator: "\r\n").first { $0.hasPrefix("Session: ") }?.dropFirst(9).split(separator: ";").first.map(String.init))
        _ = try send(control, "PLAY rtsp://h/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
        let asked = "GET_PARAMETER rtsp://h/test/ RTSP/1.0\r\nCSeq: 3\r\nSession: \(id)\r\n\r\n"
        XCTAssertTrue(try send(control, asked).contains("\r\nX-Streamd-RTCP: received=0\r\n"), "nothing from the player yet")

        func datagram(_ bytes: [UInt8], from port: Int) throws {
            try range.writeInbound(
                AddressedEnvelope(
                    remoteAddress: try SocketAddress(ipAddress: "192.0.2.2", port: port), data: range.allocator.buffer(bytes: bytes)))
        }
        let receiverReport: [UInt8] = [0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 7]
        try datagram([0x80, 0x00] + [UInt8](repeating: 0, count: 10), from: 5000)
        try datagram(receiverReport, from: 5001)
        try datagram(receiverReport, from: 5001)
        try datagram(receiverReport, from: 6001)  // another player's: not this session's
        XCTAssertTrue(try send(control, asked).contains("\r\nX-Streamd-RTCP: received=3\r\n"))
        try datagram(receiverReport, from: 5001)
        let teardown = try send(control, "TEARDOWN rtsp://h/test/ RTSP/1.0\r\nCSeq: 4\r\nSession: \(id)\r\n\r\n")
        XCTAssertTrue(teardown.hasPrefix("RTSP/1.0 200 OK\r\n"), teardown)
        XCTAssertTrue(teardown.contains("\r\nX-Streamd-RTCP: received=4\r\n"), teardown)
        while (try? rtpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)) != nil {}
        while (try? rtcpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)) != nil {}
    }

    func testInterleavedSessionsHaveNoSuchHeader() throws {
        let control = EmbeddedChannel()
        let media = MediaRegistry(loop: control.embeddedEventLoop, maxSessions: 8)
        try control.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: .rtsp, listener: "554/tcp", port: 554, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: media))
        try control.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        let setup = try send(control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n")
        let id = try XCTUnwrap(
            setup.split(separator: "\r\n").first { $0.hasPrefix("Session: ") }?.dropFirst(9).split(separator: ";").first.map(String.init))
        let reply = try send(control, "GET_PARAMETER rtsp://h/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
        XCTAssertTrue(reply.hasPrefix("RTSP/1.0 200 OK"), reply)
        XCTAssertFalse(reply.contains("X-Streamd-RTCP"), reply)
    }
}
