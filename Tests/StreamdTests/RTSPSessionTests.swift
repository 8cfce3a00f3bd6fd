import Foundation
import NIOCore
import NIOEmbedded
import PortModel
import XCTest

@testable import StreamWire
@testable import streamd

/// The test stream over RTSP (issue 7): the SDP, the Transport header, and SETUP, PLAY, PAUSE,
/// TEARDOWN and timeouts of interleaved, UDP and tunnelled sessions.
final class RTSPSessionTests: StreamTestCase {
    // MARK: the SDP and the Transport header

    func testSDPGolden() {
        XCTAssertEqual(
            RTSPResponder.sessionDescription(host: "192.0.2.1"),
            "v=0\r\no=- 0 0 IN IP4 192.0.2.1\r\ns=streamd test stream\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n"
                + "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=0\r\n")
        XCTAssertEqual(
            RTSPResponder.sessionDescription(host: "2001:db8::1"),
            "v=0\r\no=- 0 0 IN IP6 2001:db8::1\r\ns=streamd test stream\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\na=control:*\r\n"
                + "m=audio 0 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=control:trackID=0\r\n")
    }

    func testTransportHeaderAlternatives() {
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP/UDP;unicast;client_port=5000-5001"), [.udp(rtp: 5000, rtcp: 5001)])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP;unicast;client_port=5002"), [.udp(rtp: 5002, rtcp: 5003)])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP/TCP;unicast;interleaved=2-3"), [.interleaved(rtp: 2, rtcp: 3)])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP/TCP;unicast"), [.interleaved(rtp: 0, rtcp: 1)])
        XCTAssertEqual(
            RTSPTransportRequest.parse("RTP/AVP;multicast, RTP/AVP/TCP;interleaved=0-1"),
            [.unsupported("multicast (streamd sends unicast)"), .interleaved(rtp: 0, rtcp: 1)])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP;unicast"), [.unsupported("UDP without client_port")])
        XCTAssertEqual(
            RTSPTransportRequest.parse("RTP/SAVP;unicast;client_port=1-2"),
            [.unsupported("transport RTP/SAVP (streamd sends RTP/AVP over UDP or TCP)")])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP;unicast;client_port=70000-70001"), [.unsupported("UDP without client_port")])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP/TCP;interleaved=300-301"), [.unsupported("interleaved channels above 255")])
    }

    // MARK: RTSP sessions

    func testInterleavedSessionPlaysPausesAndTearsDown() throws {
        let rig = try rig()
        let setup = try send(
            rig.control, "SETUP rtsp://h:554/test/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n")
        XCTAssertTrue(
            setup.hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 3\r\nServer: streamd/0.1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc="),
            setup)
        let session = try XCTUnwrap(header("Session", in: setup))
        XCTAssertTrue(session.hasSuffix(";timeout=60"), session)
        let id = String(session.split(separator: ";")[0])
        XCTAssertEqual(id.count, 16)

        // Nothing is sent before PLAY.
        rig.loop.advanceTime(by: .milliseconds(100))
        XCTAssertEqual(outbound(rig.control), [])

        let play = try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 4\r\nSession: \(id)\r\nRange: npt=0.000-\r\n\r\n")
        XCTAssertTrue(
            play.hasPrefix(
                "RTSP/1.0 200 OK\r\nCSeq: 4\r\nServer: streamd/0.1\r\nSession: \(id);timeout=60\r\nRange: npt=0.000-\r\nRTP-Info: url=rtsp://h:554/test/trackID=0;seq="
            ), play)
        let info = try XCTUnwrap(header("RTP-Info", in: play))
        let fields = Dictionary(
            uniqueKeysWithValues: info.split(separator: ";").dropFirst().map { field -> (String, UInt32) in
                let parts = field.split(separator: "=")
                return (String(parts[0]), UInt32(parts[1])!)
            })
        let firstSequence = try XCTUnwrap(fields["seq"])
        let firstTime = try XCTUnwrap(fields["rtptime"])

        // Four ticks of 20 ms: four RTP packets on channel 0, and a sender report on channel 1 with the first.
        for _ in 0..<4 { rig.loop.advanceTime(by: .milliseconds(20)) }
        let sent = frames(outbound(rig.control))
        let rtp = sent.filter { $0.0 == 0 }.map(\.1)
        let rtcp = sent.filter { $0.0 == 1 }.map(\.1)
        XCTAssertEqual(rtp.count, 4)
        XCTAssertEqual(rtcp.count, 1)
        XCTAssertEqual(Array(rtcp[0][0..<4]), [0x80, 200, 0x00, 0x06], "an RTCP sender report")
        for (index, packet) in rtp.enumerated() {
            XCTAssertEqual(packet.count, 12 + 160)
            XCTAssertEqual(packet[1] & 0x7F, 0, "payload type 0, PCMU")
            XCTAssertEqual(UInt32(sequence(packet)), (firstSequence + UInt32(index)) & 0xFFFF)
            XCTAssertEqual(timestamp(packet), firstTime &+ UInt32(160 * index))
            XCTAssertEqual(Array(packet[12...]), MediaPump.toneFrame)
        }
        XCTAssertEqual(rtp[0][1] & 0x80, 0x80, "the marker bit on the first packet")

        // PAUSE stops the packets; PLAY resumes them where they were.
        XCTAssertTrue(
            try send(rig.control, "PAUSE rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 5\r\nSession: \(id)\r\n\r\n").hasPrefix("RTSP/1.0 200 OK"))
        rig.loop.advanceTime(by: .milliseconds(100))
        XCTAssertEqual(outbound(rig.control), [])
        let resumed = try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 6\r\nSession: \(id)\r\n\r\n")
        XCTAssertTrue(resumed.contains(";seq=\((firstSequence + 4) & 0xFFFF);"), resumed)
        rig.loop.advanceTime(by: .milliseconds(20))
        XCTAssertEqual(frames(outbound(rig.control)).filter { $0.0 == 0 }.map { UInt32(sequence($0.1)) }, [(firstSequence + 4) & 0xFFFF])

        // GET_PARAMETER keeps it alive; TEARDOWN ends it and the packets stop.
        XCTAssertTrue(
            try send(rig.control, "GET_PARAMETER rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 7\r\nSession: \(id)\r\n\r\n").contains(
                "Session: \(id);timeout=60"))
        XCTAssertEqual(
            try send(rig.control, "TEARDOWN rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 8\r\nSession: \(id)\r\n\r\n"),
            "RTSP/1.0 200 OK\r\nCSeq: 8\r\nServer: streamd/0.1\r\nSession: \(id)\r\n\r\n")
        rig.loop.advanceTime(by: .milliseconds(60))
        XCTAssertEqual(outbound(rig.control), [])
        XCTAssertEqual(rig.media.activeSessions, 0)
        XCTAssertEqual(
            try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 9\r\nSession: \(id)\r\n\r\n"),
            "RTSP/1.0 454 Session Not Found\r\nCSeq: 9\r\nServer: streamd/0.1\r\n\r\n")
    }

    func testUDPSessionSendsFromTheServerPairToTheClientPorts() throws {
        let rtpSocket = EmbeddedChannel()
        let rtcpSocket = EmbeddedChannel()
        for socket in [rtpSocket, rtcpSocket] { try socket.connect(to: SocketAddress(ipAddress: "0.0.0.0", port: 9)).wait() }
        let rig = try rig(mediaPorts: [6970: rtpSocket, 6971: rtcpSocket])
        let setup = try send(
            rig.control, "SETUP rtsp://h:554/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n"
        )
        XCTAssertTrue(setup.contains("\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc="), setup)
        let id = String(try XCTUnwrap(header("Session", in: setup)).split(separator: ";")[0])
        _ = try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
        for _ in 0..<3 { rig.loop.advanceTime(by: .milliseconds(20)) }
        var datagrams: [AddressedEnvelope<ByteBuffer>] = []
        while let datagram = try rtpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) { datagrams.append(datagram) }
        XCTAssertEqual(datagrams.count, 3, "one RTP packet per 20 ms, from the pair's first port")
        XCTAssertEqual(
            datagrams.map(\.remoteAddress), Array(repeating: try SocketAddress(ipAddress: "192.0.2.2", port: 5000), count: 3),
            "to the RTSP client's address and RTP port")
        XCTAssertEqual(datagrams.map { $0.data.readableBytes }, [172, 172, 172])
        let report = try XCTUnwrap(try rtcpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self))
        XCTAssertEqual(report.remoteAddress, try SocketAddress(ipAddress: "192.0.2.2", port: 5001))
        XCTAssertEqual(Array(report.data.readableBytesView.prefix(2)), [0x80, 200])
        XCTAssertEqual(report.data.readableBytes, 28)
        // The connection closing ends the session.
        try rig.control.close().wait()
        XCTAssertEqual(rig.media.activeSessions, 0)
    }

    func testUDPWithoutAMediaRangeIs461SoPlayersFallBackToTCP() throws {
        let rig = try rig()
        let reply = try send(
            rig.control, "SETUP rtsp://h:554/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n"
        )
        XCTAssertEqual(
            reply,
            "RTSP/1.0 461 Unsupported Transport\r\nCSeq: 1\r\nServer: streamd/0.1\r\nX-Streamd-Reason: no UDP media range is served (the plan opens none); use RTP/AVP/TCP\r\n\r\n"
        )
        XCTAssertEqual(rig.media.activeSessions, 0)
    }

    func testSessionsMaxRefusesTheNextSetup() throws {
        let rig = try rig(sessionsMax: 1)
        XCTAssertTrue(
            try send(rig.control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n")
                .hasPrefix("RTSP/1.0 200 OK"))
        XCTAssertEqual(
            try send(rig.control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n"),
            "RTSP/1.0 453 Not Enough Bandwidth\r\nCSeq: 2\r\nServer: streamd/0.1\r\nX-Streamd-Reason: --sessions-max 1 reached\r\n\r\n")
        XCTAssertEqual(rig.media.activeSessions, 1)
    }

    func testAUDPSessionTimesOutWithoutKeepalivesAndLivesWithThem() throws {
        let rtpSocket = EmbeddedChannel()
        let rtcpSocket = EmbeddedChannel()
        for socket in [rtpSocket, rtcpSocket] { try socket.connect(to: SocketAddress(ipAddress: "0.0.0.0", port: 9)).wait() }
        let rig = try rig(mediaPorts: [6970: rtpSocket, 6971: rtcpSocket])
        func open() throws -> String {
            let setup = try send(
                rig.control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n"
            )
            let id = String(try XCTUnwrap(header("Session", in: setup)).split(separator: ";")[0])
            _ = try send(rig.control, "PLAY rtsp://h/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
            return id
        }
        let kept = try open()
        for _ in 0..<3 {
            rig.loop.advanceTime(by: .seconds(40))
            XCTAssertTrue(
                try send(rig.control, "GET_PARAMETER rtsp://h/test/ RTSP/1.0\r\nCSeq: 3\r\nSession: \(kept)\r\n\r\n").hasPrefix(
                    "RTSP/1.0 200 OK"))
        }
        XCTAssertEqual(rig.media.activeSessions, 1, "alive after 120 s with a keepalive every 40 s")
        let dropped = try open()
        rig.loop.advanceTime(by: .seconds(62))
        XCTAssertNil(rig.media.session(dropped), "gone 60 s after its last request")
        XCTAssertNil(rig.media.session(kept), "the first, silent for 62 s too, also expired")
        XCTAssertTrue(
            try send(rig.control, "GET_PARAMETER rtsp://h/test/ RTSP/1.0\r\nCSeq: 4\r\nSession: \(dropped)\r\n\r\n").hasPrefix(
                "RTSP/1.0 454 Session Not Found"))
        while (try? rtpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)) != nil {}
        while (try? rtcpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)) != nil {}
    }

    func testAPlayersInterleavedRTCPBetweenRequestsIsSkipped() throws {
        let rig = try rig()
        let receiverReport: [UInt8] = [0x24, 0x01, 0x00, 0x08, 0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 1]
        try rig.control.writeInbound(
            rig.control.allocator.buffer(bytes: receiverReport + Array("OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n".utf8)))
        XCTAssertTrue(String(decoding: outbound(rig.control), as: UTF8.self).hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 9\r\n"))
        XCTAssertTrue(rig.control.isActive)
    }

    func testTunnelledSessionSendsMediaOnTheGetSide() throws {
        let tunnels = TunnelRegistry()
        let get = EmbeddedChannel()
        let post = EmbeddedChannel()
        let media = MediaRegistry(loop: get.embeddedEventLoop, maxSessions: 4)
        for channel in [get, post] {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionHandler(
                    service: .rtspHTTP, listener: "80/tcp", port: 80, counters: Counters(), tunnels: tunnels, rtmpt: RTMPTRegistry(),
                    limits: ConnectionLimits(), media: media))
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        }
        XCTAssertTrue(
            try send(get, "GET /test HTTP/1.0\r\nx-sessioncookie: c00k1e\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n").hasPrefix(
                "HTTP/1.0 200 OK"))
        func tunnel(_ rtsp: String) throws {
            try post.writeInbound(post.allocator.buffer(bytes: Array(Data(rtsp.utf8).base64EncodedString().utf8)))
        }
        try send(
            post,
            "POST /test HTTP/1.0\r\nx-sessioncookie: c00k1e\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n")
        try tunnel("SETUP rtsp://h:80/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n")
        let setup = String(decoding: outbound(get), as: UTF8.self)
        let id = String(try XCTUnwrap(header("Session", in: setup)).split(separator: ";")[0])
        try tunnel("PLAY rtsp://h:80/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
        XCTAssertTrue(String(decoding: outbound(get), as: UTF8.self).hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 2\r\n"))
        XCTAssertEqual(outbound(post), [], "the POST side is never answered")
        for _ in 0..<2 { get.embeddedEventLoop.advanceTime(by: .milliseconds(20)) }
        XCTAssertEqual(frames(outbound(get)).filter { $0.0 == 0 }.count, 2, "RTP on the GET side")
        try get.close().wait()
        XCTAssertEqual(media.activeSessions, 0, "the session ends with the GET side")
    }
}
