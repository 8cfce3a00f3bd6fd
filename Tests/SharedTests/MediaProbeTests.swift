import TestSupport
import XCTest

@testable import CommandSupport
@testable import FirewallState
@testable import HostInspection
@testable import KnockAuth
@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProbe
@testable import PortProfiles
@testable import StreamWire

/// The media check's session and scheduling: interleaved media on the control connection, the
/// RTSP reply parser, the SDP's track, and the checks a plan calls for. The statistics are in
/// RTPReceptionStatsTests, the verdicts in MediaVerdictTests, the real sessions in
/// SystemTests/MediaSystemTests and MediaProbeHostileTests.
final class MediaProbeTests: XCTestCase {
    func session(_ transport: MediaTransport = .udp) -> MediaSession {
        MediaSession(
            check: MediaProbe.Check(port: 554, transport: transport, labels: ["dss/rtsp"]), host: "192.0.2.1", source: nil, path: "/test")
    }

    func testInterleavedFramesBeforeAReplyAreCountedAndTheReplyParsed() {
        let media = session(.tcp)
        let rtp = RTPFixture.packet(sequence: 7, timestamp: 0)
        media.rtsp.pending =
            [0x24, 0x00, 0x00, UInt8(rtp.count)] + rtp + [0x24, 0x01, 0x00, 0x04, 0x80, 0xC9, 0, 1]
            + Array("RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: abc;timeout=60\r\nContent-Length: 3\r\n\r\nxyz".utf8)
        media.rtsp.consumeFrames(now: 0)
        XCTAssertEqual(media.stats.packets, 1, "RTP on channel 0 counts; RTCP on channel 1 does not")
        XCTAssertEqual(media.outcome.stats.packets, 1, "what the verdict reads")
        let parsed = RTSPReply.parse(media.rtsp.pending)
        XCTAssertEqual(parsed?.0.status, 200)
        XCTAssertEqual(parsed?.0.header("session"), "abc;timeout=60")
        XCTAssertEqual(parsed?.0.body, Array("xyz".utf8))
        XCTAssertEqual(parsed?.1, media.rtsp.pending.count)
        XCTAssertNil(RTSPReply.parse(Array("RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort".utf8)), "waits for the whole body")
    }

    func testAFrameCutShortWaitsForTheRest() {
        let media = session(.tcp)
        let rtp = RTPFixture.packet(sequence: 1, timestamp: 0)
        let frame = [0x24, 0x00, 0x00, UInt8(rtp.count)] + rtp
        media.rtsp.pending = Array(frame.prefix(50))
        media.rtsp.consumeFrames(now: 0)
        XCTAssertEqual(media.stats.packets, 0)
        XCTAssertEqual(media.rtsp.pending.count, 50)
        media.rtsp.pending += frame.dropFirst(50)
        XCTAssertNil(media.rtsp.takeReply(protocol: "RTSP/"), "the frame, then nothing more yet")
        XCTAssertEqual(media.stats.packets, 1)
        XCTAssertTrue(media.rtsp.pending.isEmpty)
        media.rtsp.pending = Array("HTTP/1.0 200 OK\r\n\r\n".utf8)
        guard case .garbage(let line)? = media.rtsp.takeReply(protocol: "RTSP/") else { return XCTFail("an HTTP reply is not RTSP") }
        XCTAssertEqual(line, "HTTP/1.0 200 OK")
    }

    func testTheTunnelsGetReplyIsItsHeadAlone() {
        let head = Array("HTTP/1.0 200 OK\r\nContent-Type: application/x-rtsp-tunnelled\r\nContent-Length: 99\r\n\r\n".utf8)
        let parsed = RTSPReply.parse(head + [0x24, 0x00])
        XCTAssertEqual(parsed?.0.status, 200)
        XCTAssertEqual(parsed?.1, head.count, "no body: media follows")
    }

    func testStreamdsCountOfWhatItReceived() {
        func received(_ header: String) -> Int? {
            RTSPReply(status: 200, headers: [("X-Streamd-RTCP", header)], body: []).received
        }
        XCTAssertEqual(received("received=4"), 4)
        XCTAssertEqual(received("ssrc=1; received = 12"), 12)
        XCTAssertNil(received("ssrc=1"))
        XCTAssertNil(RTSPReply(status: 200, headers: [], body: []).received)
    }

    func testTrackControlIsTheFirstMediaSectionsOwn() {
        // GStreamer names its track stream=0: the "m=" inside it must not start a section.
        let gstreamer =
            "v=0\r\ns=Session streamed with GStreamer\r\na=control:*\r\nm=audio 0 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:0 PCMU/8000\r\na=control:stream=0\r\n"
        XCTAssertEqual(RTSPReply.trackControl(gstreamer), "stream=0")
        XCTAssertEqual(
            RTSPReply.trackControl("v=0\nm=audio 0 RTP/AVP 0\na=control:rtsp://h/x/trackID=1\nm=video 0 RTP/AVP 96\na=control:trackID=2\n"),
            "rtsp://h/x/trackID=1")
        XCTAssertNil(RTSPReply.trackControl("v=0\na=control:*\nm=audio 0 RTP/AVP 0\nm=video 0 RTP/AVP 96\na=control:trackID=2\n"))
    }

    func testASessionThatCannotConnectFailsWithoutSockets() {
        let closed = freeLoopbackPort()
        let media = MediaSession(
            check: MediaProbe.Check(port: closed, transport: .udp, labels: []), host: "127.0.0.1", source: nil, path: "test")
        XCTAssertEqual(media.path, "/test")
        media.start(timeout: 0.5)
        XCTAssertEqual(media.failure, MediaFailure(.closed, "RTSP: connection refused"))
        XCTAssertNil(media.rtsp.control)
        XCTAssertNil(media.pair)
        XCTAssertEqual(media.mediaDescriptor, -1)
    }

    func testChecksForAPlan() {
        func target(_ port: Int, _ transport: Transport, _ service: Service, range: String? = nil) -> ProbeTarget {
            ProbeTarget(transport: transport, port: port, service: service, labels: ["x"], range: range ?? "\(port)")
        }
        let dss = [
            target(554, .tcp, .rtsp), target(7070, .tcp, .rtsp), target(80, .tcp, .rtspHTTP), target(6970, .udp, .rtp),
            target(8000, .tcp, .icy),
        ]
        XCTAssertEqual(
            MediaProbe.checks(for: dss).map { "\($0.port)/\($0.transport.rawValue)" },
            ["554/udp", "554/tcp", "7070/udp", "7070/tcp", "80/http"])
        XCTAssertEqual(
            MediaProbe.checks(for: dss, transports: [.tcp]).map { "\($0.port)/\($0.transport.rawValue)" }, ["554/tcp", "7070/tcp"])
        // A plan with UDP ports but no media range: RTP cannot come over UDP, so only TCP is tried.
        XCTAssertEqual(MediaProbe.checks(for: [target(554, .tcp, .rtsp), target(10000, .udp, .broadcast)]).map(\.transport), [.tcp])
        XCTAssertEqual(MediaProbe.checks(for: [target(8000, .tcp, .icy)]), [])
        // The plan's media range goes with the UDP check: where the player's RTCP must get in.
        XCTAssertEqual(
            MediaProbe.checks(for: [target(554, .tcp, .rtsp), target(6970, .udp, .rtp, range: "6970-6999/udp")]).first?.mediaRange,
            "6970-6999")
    }
}
