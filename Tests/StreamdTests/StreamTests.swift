import NIOCore
import NIOEmbedded
@testable import StreamWire
@testable import KnockAuth
@testable import PortModel
@testable import PortPlanning
import TestSupport
import XCTest
@testable import StreamWire
@testable import streamd

/// The test stream (issue 7) through streamd's real handler and media pump, on EmbeddedChannels
/// whose clock the tests move: SETUP, PLAY, PAUSE, TEARDOWN, timeouts, RTMP play and publish, ICY.
final class StreamTests: XCTestCase {
    struct Rig {
        let control: EmbeddedChannel
        let media: MediaRegistry
        var loop: EmbeddedEventLoop { control.embeddedEventLoop }
    }

    func rig(_ service: Service = .rtsp, sessionsMax: Int = 8, mediaPorts: [Int: EmbeddedChannel] = [:]) throws -> Rig {
        let channel = EmbeddedChannel()
        let media = MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: sessionsMax)
        for (port, udp) in mediaPorts { media.registerMediaPort(port, EmbeddedUDPSender(udp)) }
        try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
            service: service, listener: "554/tcp", port: 554, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
            limits: ConnectionLimits(), media: media))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        return Rig(control: channel, media: media)
    }

    @discardableResult
    func send(_ channel: EmbeddedChannel, _ text: String) throws -> String {
        try channel.writeInbound(channel.allocator.buffer(bytes: Array(text.utf8)))
        return String(decoding: outbound(channel), as: UTF8.self)
    }

    func outbound(_ channel: EmbeddedChannel) -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return out
    }

    func header(_ name: String, in reply: String) -> String? {
        reply.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    /// `$`-framed packets: (channel, packet).
    func frames(_ bytes: [UInt8]) -> [(Int, [UInt8])] {
        var out: [(Int, [UInt8])] = []
        var offset = 0
        while offset + 4 <= bytes.count, bytes[offset] == 0x24 {
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            out.append((Int(bytes[offset + 1]), Array(bytes[(offset + 4)..<(offset + 4 + length)])))
            offset += 4 + length
        }
        XCTAssertEqual(offset, bytes.count, "nothing but whole frames")
        return out
    }

    func sequence(_ packet: [UInt8]) -> UInt16 { UInt16(packet[2]) << 8 | UInt16(packet[3]) }
    func timestamp(_ packet: [UInt8]) -> UInt32 { packet[4..<8].reduce(0) { $0 << 8 | UInt32($1) } }

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
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/SAVP;unicast;client_port=1-2"), [.unsupported("transport RTP/SAVP (streamd sends RTP/AVP over UDP or TCP)")])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP;unicast;client_port=70000-70001"), [.unsupported("UDP without client_port")])
        XCTAssertEqual(RTSPTransportRequest.parse("RTP/AVP/TCP;interleaved=300-301"), [.unsupported("interleaved channels above 255")])
    }

    // MARK: RTSP sessions

    func testInterleavedSessionPlaysPausesAndTearsDown() throws {
        let rig = try rig()
        let setup = try send(rig.control, "SETUP rtsp://h:554/test/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n")
        XCTAssertTrue(setup.hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 3\r\nServer: streamd/0.1\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1;ssrc="), setup)
        let session = try XCTUnwrap(header("Session", in: setup))
        XCTAssertTrue(session.hasSuffix(";timeout=60"), session)
        let id = String(session.split(separator: ";")[0])
        XCTAssertEqual(id.count, 16)

        // Nothing is sent before PLAY.
        rig.loop.advanceTime(by: .milliseconds(100))
        XCTAssertEqual(outbound(rig.control), [])

        let play = try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 4\r\nSession: \(id)\r\nRange: npt=0.000-\r\n\r\n")
        XCTAssertTrue(play.hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 4\r\nServer: streamd/0.1\r\nSession: \(id);timeout=60\r\nRange: npt=0.000-\r\nRTP-Info: url=rtsp://h:554/test/trackID=0;seq="), play)
        let info = try XCTUnwrap(header("RTP-Info", in: play))
        let fields = Dictionary(uniqueKeysWithValues: info.split(separator: ";").dropFirst().map { field -> (String, UInt32) in
            let parts = field.split(separator: "=")
            return (String(parts[0]), UInt32(parts[1])!)
        })
        let firstSequence = try XCTUnwrap(fields["seq"]), firstTime = try XCTUnwrap(fields["rtptime"])

        // Four ticks of 20 ms: four RTP packets on channel 0, and a sender report on channel 1 with the first.
        for _ in 0..<4 { rig.loop.advanceTime(by: .milliseconds(20)) }
        let sent = frames(outbound(rig.control))
        let rtp = sent.filter { $0.0 == 0 }.map(\.1), rtcp = sent.filter { $0.0 == 1 }.map(\.1)
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
        XCTAssertTrue(try send(rig.control, "PAUSE rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 5\r\nSession: \(id)\r\n\r\n").hasPrefix("RTSP/1.0 200 OK"))
        rig.loop.advanceTime(by: .milliseconds(100))
        XCTAssertEqual(outbound(rig.control), [])
        let resumed = try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 6\r\nSession: \(id)\r\n\r\n")
        XCTAssertTrue(resumed.contains(";seq=\((firstSequence + 4) & 0xFFFF);"), resumed)
        rig.loop.advanceTime(by: .milliseconds(20))
        XCTAssertEqual(frames(outbound(rig.control)).filter { $0.0 == 0 }.map { UInt32(sequence($0.1)) }, [(firstSequence + 4) & 0xFFFF])

        // GET_PARAMETER keeps it alive; TEARDOWN ends it and the packets stop.
        XCTAssertTrue(try send(rig.control, "GET_PARAMETER rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 7\r\nSession: \(id)\r\n\r\n").contains("Session: \(id);timeout=60"))
        XCTAssertEqual(try send(rig.control, "TEARDOWN rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 8\r\nSession: \(id)\r\n\r\n"), "RTSP/1.0 200 OK\r\nCSeq: 8\r\nServer: streamd/0.1\r\nSession: \(id)\r\n\r\n")
        rig.loop.advanceTime(by: .milliseconds(60))
        XCTAssertEqual(outbound(rig.control), [])
        XCTAssertEqual(rig.media.activeSessions, 0)
        XCTAssertEqual(
            try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 9\r\nSession: \(id)\r\n\r\n"),
            "RTSP/1.0 454 Session Not Found\r\nCSeq: 9\r\nServer: streamd/0.1\r\n\r\n")
    }

    func testUDPSessionSendsFromTheServerPairToTheClientPorts() throws {
        let rtpSocket = EmbeddedChannel(), rtcpSocket = EmbeddedChannel()
        for socket in [rtpSocket, rtcpSocket] { try socket.connect(to: SocketAddress(ipAddress: "0.0.0.0", port: 9)).wait() }
        let rig = try rig(mediaPorts: [6970: rtpSocket, 6971: rtcpSocket])
        let setup = try send(rig.control, "SETUP rtsp://h:554/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n")
        XCTAssertTrue(setup.contains("\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6970-6971;ssrc="), setup)
        let id = String(try XCTUnwrap(header("Session", in: setup)).split(separator: ";")[0])
        _ = try send(rig.control, "PLAY rtsp://h:554/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
        for _ in 0..<3 { rig.loop.advanceTime(by: .milliseconds(20)) }
        var datagrams: [AddressedEnvelope<ByteBuffer>] = []
        while let datagram = try rtpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self) { datagrams.append(datagram) }
        XCTAssertEqual(datagrams.count, 3, "one RTP packet per 20 ms, from the pair's first port")
        XCTAssertEqual(datagrams.map(\.remoteAddress), Array(repeating: try SocketAddress(ipAddress: "192.0.2.2", port: 5000), count: 3), "to the RTSP client's address and RTP port")
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
        let reply = try send(rig.control, "SETUP rtsp://h:554/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n")
        XCTAssertEqual(reply, "RTSP/1.0 461 Unsupported Transport\r\nCSeq: 1\r\nServer: streamd/0.1\r\nX-Streamd-Reason: no UDP media range is served (the plan opens none); use RTP/AVP/TCP\r\n\r\n")
        XCTAssertEqual(rig.media.activeSessions, 0)
    }

    func testSessionsMaxRefusesTheNextSetup() throws {
        let rig = try rig(sessionsMax: 1)
        XCTAssertTrue(try send(rig.control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n").hasPrefix("RTSP/1.0 200 OK"))
        XCTAssertEqual(
            try send(rig.control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n"),
            "RTSP/1.0 453 Not Enough Bandwidth\r\nCSeq: 2\r\nServer: streamd/0.1\r\nX-Streamd-Reason: --sessions-max 1 reached\r\n\r\n")
        XCTAssertEqual(rig.media.activeSessions, 1)
    }

    func testAUDPSessionTimesOutWithoutKeepalivesAndLivesWithThem() throws {
        let rtpSocket = EmbeddedChannel(), rtcpSocket = EmbeddedChannel()
        for socket in [rtpSocket, rtcpSocket] { try socket.connect(to: SocketAddress(ipAddress: "0.0.0.0", port: 9)).wait() }
        let rig = try rig(mediaPorts: [6970: rtpSocket, 6971: rtcpSocket])
        func open() throws -> String {
            let setup = try send(rig.control, "SETUP rtsp://h/test/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n")
            let id = String(try XCTUnwrap(header("Session", in: setup)).split(separator: ";")[0])
            _ = try send(rig.control, "PLAY rtsp://h/test/ RTSP/1.0\r\nCSeq: 2\r\nSession: \(id)\r\n\r\n")
            return id
        }
        let kept = try open()
        for _ in 0..<3 {
            rig.loop.advanceTime(by: .seconds(40))
            XCTAssertTrue(try send(rig.control, "GET_PARAMETER rtsp://h/test/ RTSP/1.0\r\nCSeq: 3\r\nSession: \(kept)\r\n\r\n").hasPrefix("RTSP/1.0 200 OK"))
        }
        XCTAssertEqual(rig.media.activeSessions, 1, "alive after 120 s with a keepalive every 40 s")
        let dropped = try open()
        rig.loop.advanceTime(by: .seconds(62))
        XCTAssertNil(rig.media.session(dropped), "gone 60 s after its last request")
        XCTAssertNil(rig.media.session(kept), "the first, silent for 62 s too, also expired")
        XCTAssertTrue(try send(rig.control, "GET_PARAMETER rtsp://h/test/ RTSP/1.0\r\nCSeq: 4\r\nSession: \(dropped)\r\n\r\n").hasPrefix("RTSP/1.0 454 Session Not Found"))
        while (try? rtpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)) != nil {}
        while (try? rtcpSocket.readOutbound(as: AddressedEnvelope<ByteBuffer>.self)) != nil {}
    }

    func testAPlayersInterleavedRTCPBetweenRequestsIsSkipped() throws {
        let rig = try rig()
        let receiverReport: [UInt8] = [0x24, 0x01, 0x00, 0x08, 0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 1]
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: receiverReport + Array("OPTIONS * RTSP/1.0\r\nCSeq: 9\r\n\r\n".utf8)))
        XCTAssertTrue(String(decoding: outbound(rig.control), as: UTF8.self).hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 9\r\n"))
        XCTAssertTrue(rig.control.isActive)
    }

    func testTunnelledSessionSendsMediaOnTheGetSide() throws {
        let tunnels = TunnelRegistry()
        let get = EmbeddedChannel(), post = EmbeddedChannel()
        let media = MediaRegistry(loop: get.embeddedEventLoop, maxSessions: 4)
        for channel in [get, post] {
            try channel.pipeline.syncOperations.addHandler(ConnectionHandler(
                service: .rtspHTTP, listener: "80/tcp", port: 80, counters: Counters(), tunnels: tunnels, rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: media))
            try channel.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        }
        XCTAssertTrue(try send(get, "GET /test HTTP/1.0\r\nx-sessioncookie: c00k1e\r\nAccept: application/x-rtsp-tunnelled\r\n\r\n").hasPrefix("HTTP/1.0 200 OK"))
        func tunnel(_ rtsp: String) throws {
            try post.writeInbound(post.allocator.buffer(bytes: Array(Data(rtsp.utf8).base64EncodedString().utf8)))
        }
        try send(post, "POST /test HTTP/1.0\r\nx-sessioncookie: c00k1e\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 32767\r\n\r\n")
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

    // MARK: RTMP

    /// An AMF0 number, built here from the spec (0x00 then the IEEE 754 double, big-endian).
    func number(_ value: Double) -> [UInt8] { [0x00] + (0..<8).map { UInt8((value.bitPattern >> (56 - 8 * UInt64($0))) & 0xFF) } }
    func string(_ text: String) -> [UInt8] { [0x02, 0x00, UInt8(text.utf8.count)] + Array(text.utf8) }
    func key(_ text: String) -> [UInt8] { [0x00, UInt8(text.utf8.count)] + Array(text.utf8) }

    func testRTMPPlayMessagesGolden() {
        // Set Chunk Size 4096, then User Control StreamBegin(1), both on chunk stream 2, message stream 0.
        let setChunkSize: [UInt8] = [0x02, 0, 0, 0, 0, 0, 4, 0x01, 0, 0, 0, 0, 0x00, 0x00, 0x10, 0x00]
        let streamBegin: [UInt8] = [0x02, 0, 0, 0, 0, 0, 6, 0x04, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01]
        let status: [UInt8] = string("onStatus") + number(0) + [0x05] + [0x03]
            + key("level") + string("status") + key("code") + string("NetStream.Play.Start")
            + key("description") + string("Started playing the streamd test stream.") + [0x00, 0x00, 0x09]
        XCTAssertLessThanOrEqual(status.count, 4096)
        let onStatus: [UInt8] = [0x03, 0, 0, 0, 0, UInt8(status.count >> 8), UInt8(status.count & 0xFF), 0x14, 0x01, 0, 0, 0] + status
        XCTAssertEqual(RTMPSession.playReply(stream: 1), setChunkSize + streamBegin + onStatus)

        let created: [UInt8] = string("_result") + number(4) + [0x05] + number(1)
        XCTAssertEqual(RTMPSession.command([.string("_result"), .number(4), .null, .number(1)], stream: 0), [0x03, 0, 0, 0, 0, 0, UInt8(created.count), 0x14, 0, 0, 0, 0] + created)
    }

    func testFLVAudioMessageGolden() {
        let samples = [UInt8](repeating: 0xFF, count: 160)
        // Chunk stream 4, timestamp 40 ms, length 161, type 8 (audio), message stream 1 (little-endian),
        // then the FLV tag byte 0x82 (G.711 µ-law) and 160 samples: one chunk under the 4096-byte chunk size.
        XCTAssertEqual(
            RTMPSession.audioMessage(timestamp: 40, samples: samples, stream: 1),
            [0x04, 0x00, 0x00, 0x28, 0x00, 0x00, 0xA1, 0x08, 0x01, 0x00, 0x00, 0x00, 0x82] + samples)
        // Past 0xFFFFFF ms (4.6 hours) the timestamp moves to the extended field.
        let late = RTMPSession.audioMessage(timestamp: 0x0100_0000, samples: samples, stream: 1)
        XCTAssertEqual(Array(late[0..<16]), [0x04, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xA1, 0x08, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00])
    }

    func rtmpCommand(_ values: [AMF0], stream: UInt32 = 0) -> [UInt8] {
        RTMPSession.chunk(csid: 3, type: 20, stream: stream, payload: values.flatMap(\.encoded))
    }

    func handshake(_ channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(bytes: [0x03] + [UInt8](repeating: 1, count: 1536)))
        XCTAssertEqual(outbound(channel).count, 1 + 1536 + 1536)
        try channel.writeInbound(channel.allocator.buffer(bytes: [UInt8](repeating: 2, count: 1536)))
    }

    func testRTMPPlayStreamsAudioAfterPlayStart() throws {
        let rig = try rig(.rtmp)
        try handshake(rig.control)
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("connect"), .number(1), .object([("app", .string("live"))])])))
        XCTAssertEqual(outbound(rig.control), RTMPSession.connectReply(transaction: 1))
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("createStream"), .number(2), .null])))
        XCTAssertEqual(outbound(rig.control), RTMPSession.command([.string("_result"), .number(2), .null, .number(1)], stream: 0))
        rig.loop.advanceTime(by: .milliseconds(60))
        XCTAssertEqual(outbound(rig.control), [], "no audio before play")
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("play"), .number(3), .null, .string("test")], stream: 1)))
        XCTAssertEqual(outbound(rig.control), RTMPSession.playReply(stream: 1))
        for _ in 0..<3 { rig.loop.advanceTime(by: .milliseconds(20)) }
        let audio = outbound(rig.control)
        let tone = MediaPump.toneFrame
        XCTAssertEqual(audio, [0, 20, 40].flatMap { RTMPSession.audioMessage(timestamp: UInt32($0), samples: tone, stream: 1) })
        // Idle readers are not idle players: the idle timeout leaves a playing connection alone.
        rig.control.pipeline.fireUserInboundEventTriggered(IdleStateHandler.IdleStateEvent.read)
        XCTAssertTrue(rig.control.isActive)
        try rig.control.close().wait()
        XCTAssertEqual(rig.media.activeSessions, 0)
    }

    func testRTMPPublishIsAcceptedAndItsMediaDiscarded() throws {
        var session = RTMPSession(serverRandom: [UInt8](repeating: 0, count: 1528))
        _ = session.receive([0x03] + [UInt8](repeating: 1, count: 1536) + [UInt8](repeating: 2, count: 1536))
        _ = session.receive(rtmpCommand([.string("connect"), .number(1), .object([("app", .string("live"))])]))
        XCTAssertEqual(session.receive(rtmpCommand([.string("releaseStream"), .number(2), .null, .string("x")])), RTMPSession.command([.string("_result"), .number(2), .null], stream: 0))
        _ = session.receive(rtmpCommand([.string("createStream"), .number(4), .null]))
        let started = session.receive(rtmpCommand([.string("publish"), .number(5), .null, .string("x"), .string("live")], stream: 1))
        XCTAssertEqual(started, RTMPSession.onStatus("status", "NetStream.Publish.Start", "streamd accepts the stream and discards it", stream: 1))
        XCTAssertTrue(session.publishing)
        // A 300 KB video frame (larger than any command streamd keeps) in 128-byte chunks: counted, not held.
        let frame = [UInt8](repeating: 0x17, count: 300_000)
        XCTAssertEqual(session.receive(RTMPSession.chunk(csid: 6, type: 9, stream: 1, payload: frame)), [])
        XCTAssertEqual(session.discardedBytes, frame.count)
        XCTAssertEqual(session.state, .chunks, "still a working session")
        XCTAssertEqual(session.receive(rtmpCommand([.string("FCUnpublish"), .number(6), .null, .string("x")])), RTMPSession.command([.string("_result"), .number(6), .null], stream: 0))
    }

    func testRTMPPlayBeyondSessionsMaxFails() throws {
        let rig = try rig(.rtmp, sessionsMax: 1)
        _ = rig.media.add(owner: ObjectIdentifier(EmbeddedChannel()), sink: .icy(EmbeddedChannel()))
        try handshake(rig.control)
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("connect"), .number(1), .object([])])))
        _ = outbound(rig.control)
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: rtmpCommand([.string("play"), .number(3), .null, .string("test")], stream: 1)))
        XCTAssertEqual(outbound(rig.control), RTMPSession.onStatus("error", "NetStream.Play.Failed", "streamd: --sessions-max reached", stream: 1))
        XCTAssertEqual(rig.media.activeSessions, 1)
    }

    // MARK: ICY

    func testICYFramesArePacedAfterTheBurst() throws {
        let rig = try rig(.icy)
        _ = try send(rig.control, "GET /test.mp3 HTTP/1.0\r\n\r\n")
        rig.loop.advanceTime(by: .milliseconds(20))
        XCTAssertEqual(outbound(rig.control).count, 417 * ICYResponder.burstFrames)
        // Ten seconds later: one frame per 1152/44100 s, about 383, never a burst.
        var frames = 0
        for _ in 0..<500 {
            rig.loop.advanceTime(by: .milliseconds(20))
            frames += outbound(rig.control).count / 417
        }
        XCTAssertEqual(frames, Int(10.02 / (1152.0 / 44100.0)), accuracy: 1)
    }

    func testICYBeyondSessionsMaxIs503() throws {
        let rig = try rig(.icy, sessionsMax: 1)
        _ = rig.media.add(owner: ObjectIdentifier(EmbeddedChannel()), sink: .icy(EmbeddedChannel()))
        XCTAssertTrue(try send(rig.control, "GET /test.mp3 HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 503 Service Unavailable\r\n"))
    }
    // MARK: MMSH

    func testASFHeaderLayout() {
        let header = ASF.header()
        func u32(_ at: Int) -> Int { Int(header[at]) | Int(header[at + 1]) << 8 | Int(header[at + 2]) << 16 | Int(header[at + 3]) << 24 }
        // GUIDs as they appear on the wire (from a file ffmpeg's ASF muxer wrote), not from ASF.guid.
        let headerGUID: [UInt8] = [0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C]
        let fileGUID: [UInt8] = [0xA1, 0xDC, 0xAB, 0x8C, 0x47, 0xA9, 0xCF, 0x11, 0x8E, 0xE4, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65]
        let streamGUID: [UInt8] = [0x91, 0x07, 0xDC, 0xB7, 0xB7, 0xA9, 0xCF, 0x11, 0x8E, 0xE6, 0x00, 0xC0, 0x0C, 0x20, 0x53, 0x65]
        let audioGUID: [UInt8] = [0x40, 0x9E, 0x69, 0xF8, 0x4D, 0x5B, 0xCF, 0x11, 0xA8, 0xFD, 0x00, 0x80, 0x5F, 0x5C, 0x44, 0x2B]
        let dataGUID: [UInt8] = [0x36, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C]
        XCTAssertEqual(Array(header[0..<16]), headerGUID)
        XCTAssertEqual(u32(16), header.count - 50, "the header object's size: everything before the data object")
        XCTAssertEqual(u32(24), 3, "three child objects")
        XCTAssertEqual(Array(header[28..<30]), [0x01, 0x02])
        XCTAssertEqual(Array(header[30..<46]), fileGUID)
        XCTAssertEqual(u32(46), 104)
        XCTAssertEqual(u32(30 + 88) & 1, 1, "the broadcast flag")
        XCTAssertEqual([u32(30 + 92), u32(30 + 96)], [200, 200], "fixed 200-byte packets")
        XCTAssertEqual(Array(header[134..<150]), streamGUID)
        XCTAssertEqual(Array(header[158..<174]), audioGUID)
        // WAVEFORMATEX after the 78-byte head of the stream properties: µ-law, mono, 8 kHz, 8 bits.
        XCTAssertEqual(Array(header[(134 + 78)..<(134 + 78 + 18)]), [0x07, 0x00, 0x01, 0x00, 0x40, 0x1F, 0, 0, 0x40, 0x1F, 0, 0, 0x01, 0x00, 0x08, 0x00, 0x00, 0x00])
        XCTAssertEqual(Array(header[(header.count - 50)..<(header.count - 34)]), dataGUID)
        XCTAssertEqual(Array(header.suffix(2)), [0x01, 0x01])
    }

    func testASFDataPacketLayout() {
        let samples = [UInt8](repeating: 0xAB, count: 160)
        let packet = ASF.dataPacket(objectNumber: 258, milliseconds: 1000, samples: samples)
        XCTAssertEqual(packet.count, 200)
        XCTAssertEqual(Array(packet[0..<27]), [
            0x82, 0x00, 0x00,  // error correction
            0x08, 0x5D, 13,  // a byte of padding length, then the property flags; 13 bytes of padding
            0xE8, 0x03, 0x00, 0x00, 0x14, 0x00,  // send time 1000 ms, duration 20 ms
            0x81, 0x02, 0x00, 0x00, 0x00, 0x00,  // stream 1 (key frame), object 258 & 0xFF, offset 0
            0x08, 0xA0, 0x00, 0x00, 0x00, 0xE8, 0x03, 0x00, 0x00,  // replicated: 160 bytes, at 1000 ms
        ])
        XCTAssertEqual(Array(packet[27..<187]), samples)
        XCTAssertEqual(Array(packet[187...]), [UInt8](repeating: 0, count: 13))
        XCTAssertEqual(MMSResponder.chunk("D", sequence: 7, body: [1, 2]), [0x24, 0x44, 10, 0, 7, 0, 0, 0, 0, 0, 10, 0, 1, 2])
    }

    func testMMSHPlayStreamsDataChunks() throws {
        let rig = try rig(.mms)
        let play = "GET /test HTTP/1.0\r\nUser-Agent: NSPlayer/4.1.0.3856\r\nPragma: no-cache,rate=1.000000,request-context=2\r\nPragma: xPlayStrm=1\r\n\r\n"
        try rig.control.writeInbound(rig.control.allocator.buffer(bytes: Array(play.utf8)))
        let answer = outbound(rig.control)
        XCTAssertEqual(answer, MMSResponder.playResponse().bytes)
        XCTAssertTrue(String(decoding: answer.prefix(200), as: UTF8.self).contains("Content-Type: application/x-mms-framed"))
        for _ in 0..<2 { rig.loop.advanceTime(by: .milliseconds(20)) }
        let tone = MediaPump.toneFrame
        XCTAssertEqual(outbound(rig.control), (0..<2).flatMap { index in
            MMSResponder.chunk("D", sequence: UInt32(index), body: ASF.dataPacket(objectNumber: index, milliseconds: UInt32(index * 20), samples: tone))
        })
        try rig.control.close().wait()
        XCTAssertEqual(rig.media.activeSessions, 0)
    }
}

/// A media port on an EmbeddedChannel: what streamd sends appears as its outbound datagrams.
final class EmbeddedUDPSender: UDPSender, @unchecked Sendable {
    let channel: Channel

    init(_ channel: EmbeddedChannel) { self.channel = channel }

    func send(_ datagram: ByteBuffer, to address: SocketAddress) -> Bool {
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: datagram), promise: nil)
        return true
    }
}

/// streamd's flags on the command line: a bad value is refused before anything is bound.
final class StreamdFlagTests: XCTestCase {
    func testSessionsMaxOutOfRangeIsAUsageError() throws {
        for value in ["0", "100001"] {
            let result = try runProcess(TestPaths.binary("streamd").path, ["dss", "--sessions-max", value])
            XCTAssertEqual(result.status, 64, value)
            XCTAssertTrue(result.stderr.contains("--sessions-max \(value): give a number from 1 to 100000"), result.stderr)
        }
    }

    func testAnEmptyOrBlankKeyFileIsAUsageErrorForStreamdAndTheProbe() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("streamd-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in [("empty", ""), ("blank", " \n")] {
            let path = folder.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
            let reason = name == "empty" ? "is empty" : "holds only whitespace"
            // streamd reads the key before binding anything; the probe before sending anything.
            let streamd = try runProcess(TestPaths.binary("streamd").path, ["dss", "--key", path])
            XCTAssertEqual(streamd.status, 64, streamd.stderr)
            XCTAssertEqual(streamd.stderr, "streamd: error: --key: '\(path)' \(reason); make one with: head -c 32 /dev/urandom > \(path)\n")
            let probe = try runProcess(TestPaths.binary("portctl").path, ["probe", "127.0.0.1", "--ports", "9/udp", "--key", path])
            XCTAssertEqual(probe.status, 64, probe.stderr)
            XCTAssertEqual(probe.stderr, "portctl: error: --key: '\(path)' \(reason); make one with: head -c 32 /dev/urandom > \(path)\n")
        }
    }
}
