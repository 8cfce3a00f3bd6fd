import XCTest
@testable import PortModel
@testable import PortProfiles
@testable import PortPlanning
@testable import PlanRendering
@testable import FirewallState
@testable import HostInspection
@testable import PortProbe
@testable import StreamWire
@testable import KnockAuth
@testable import CommandSupport

/// The media check's arithmetic: sequence continuity, loss, jitter, the reply parser and the
/// verdicts. The real sessions run in SystemTests/MediaSystemTests.
final class MediaProbeTests: XCTestCase {
    func session(_ transport: MediaTransport = .udp) -> MediaSession {
        MediaSession(check: MediaProbe.Check(port: 554, transport: transport, labels: ["dss/rtsp"]), host: "192.0.2.1", source: nil, path: "/test")
    }

    func packet(sequence: UInt16, timestamp: UInt32) -> [UInt8] {
        [0x80, 0x00, UInt8(sequence >> 8), UInt8(sequence & 0xFF), UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF), 1, 2, 3, 4]
            + [UInt8](repeating: 0xFF, count: 160)
    }

    func testLossCountsGapsAcrossTheSequenceWrap() {
        let media = session()
        var sequence: UInt16 = 65530, timestamp: UInt32 = 1000
        for index in 0..<20 {
            // Packets 5 and 6 (sequence 65535 and 0) never arrive.
            if index != 5, index != 6 { media.count(packet(sequence: sequence, timestamp: timestamp), at: Double(index) * 0.02) }
            sequence &+= 1
            timestamp &+= 160
        }
        XCTAssertEqual(media.packets, 18)
        XCTAssertEqual(media.expected, 20, "65530 through 65535 and 0 through 13")
        XCTAssertEqual(media.jitter, 0, accuracy: 1e-9, "arrivals exactly on the 20 ms grid")
    }

    func testJitterFollowsRFC3550() {
        let media = session()
        // Every other packet 4 ms late: |D| alternates 4 ms and 4 ms, so J tends to 4 ms.
        for index in 0..<400 {
            media.count(packet(sequence: UInt16(index), timestamp: UInt32(index * 160)), at: Double(index) * 0.02 + (index % 2 == 1 ? 0.004 : 0))
        }
        XCTAssertEqual(media.jitter * 1000, 4, accuracy: 0.01)
        XCTAssertEqual(media.deviations.count, 399)
        XCTAssertEqual(media.deviations.max() ?? 0, 4, accuracy: 0.001)
    }

    func testRTCPAndGarbageAreNotCountedAsRTP() {
        let media = session()
        media.count([0x80, 0xC8, 0x00, 0x06] + [UInt8](repeating: 0, count: 24), at: 0)
        media.count([0x00, 0x01, 0x02], at: 0)
        media.count(Array("PCK1".utf8) + [UInt8](repeating: 0, count: 52), at: 0)
        XCTAssertEqual(media.packets, 0)
    }

    func testInterleavedFramesBeforeAReplyAreCountedAndTheReplyParsed() {
        let media = session(.tcp)
        let rtp = packet(sequence: 7, timestamp: 0)
        media.pending = [0x24, 0x00, 0x00, UInt8(rtp.count)] + rtp + [0x24, 0x01, 0x00, 0x04, 0x80, 0xC9, 0, 1]
            + Array("RTSP/1.0 200 OK\r\nCSeq: 4\r\nSession: abc;timeout=60\r\nContent-Length: 3\r\n\r\nxyz".utf8)
        media.consumeFrames(now: 0)
        XCTAssertEqual(media.packets, 1, "RTP on channel 0 counts; RTCP on channel 1 does not")
        let parsed = MediaSession.parseReply(media.pending)
        XCTAssertEqual(parsed?.0.status, 200)
        XCTAssertEqual(parsed?.0.header("session"), "abc;timeout=60")
        XCTAssertEqual(parsed?.0.body, Array("xyz".utf8))
        XCTAssertEqual(parsed?.1, media.pending.count)
        XCTAssertNil(MediaSession.parseReply(Array("RTSP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort".utf8)), "waits for the whole body")
    }

    func testTrackControlIsTheFirstMediaSectionsOwn() {
        // GStreamer names its track stream=0: the "m=" inside it must not start a section.
        let gstreamer = "v=0\r\ns=Session streamed with GStreamer\r\na=control:*\r\nm=audio 0 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:0 PCMU/8000\r\na=control:stream=0\r\n"
        XCTAssertEqual(MediaSession.trackControl(gstreamer), "stream=0")
        XCTAssertEqual(MediaSession.trackControl("v=0\nm=audio 0 RTP/AVP 0\na=control:rtsp://h/x/trackID=1\nm=video 0 RTP/AVP 96\na=control:trackID=2\n"), "rtsp://h/x/trackID=1")
        XCTAssertNil(MediaSession.trackControl("v=0\na=control:*\nm=audio 0 RTP/AVP 0\nm=video 0 RTP/AVP 96\na=control:trackID=2\n"))
    }

    func testVerdicts() {
        let blocked = session()
        blocked.serverPorts = "6970-6971"
        let none = MediaSession.verdict(check: blocked.check, sessions: [blocked], host: "h", seconds: 1)
        XCTAssertEqual(none.verdict, .mediaBlocked)
        XCTAssertEqual(none.detail, "media blocked (RTSP ok, no RTP on udp/6970-6971)")
        XCTAssertEqual(none.target.name, "554/tcp media/udp")

        let good = session()
        for index in 0..<100 { good.count(packet(sequence: UInt16(index), timestamp: UInt32(index * 160)), at: Double(index) * 0.02) }
        let ok = MediaSession.verdict(check: good.check, sessions: [good], host: "h", seconds: 2)
        XCTAssertEqual(ok.verdict, .ok)
        XCTAssertEqual(ok.detail, "media ok (100 packets, loss 0.00%, jitter 0.00 ms)")

        let lossy = session()
        for index in 0..<100 where index % 10 != 0 || index == 0 { lossy.count(packet(sequence: UInt16(index), timestamp: UInt32(index * 160)), at: Double(index) * 0.02) }
        let degraded = MediaSession.verdict(check: lossy.check, sessions: [lossy], host: "h", seconds: 2)
        XCTAssertEqual(degraded.verdict, .mediaDegraded)
        XCTAssertEqual(degraded.detail, "media degraded (91 packets, loss 9.00%, jitter 0.00 ms)")

        let refused = session()
        refused.failure = (.closed, "RTSP: connection refused")
        XCTAssertEqual(MediaSession.verdict(check: refused.check, sessions: [refused], host: "h", seconds: 0).detail, "RTSP failed: RTSP: connection refused")
    }

    /// streamd's count of the punch packets that reached it before PLAY decides between ok and
    /// one-way (item 8).
    func testOneWayWhenStreamdReceivedNothingFromThePlayer() {
        func playing(received: Int?) -> MediaSession {
            let media = session()
            media.serverPorts = "6970-6971"
            media.punchesReceived = received
            for index in 0..<50 { media.count(packet(sequence: UInt16(index), timestamp: UInt32(index * 160)), at: Double(index) * 0.02) }
            return media
        }
        let inRange = MediaProbe.Check(port: 554, transport: .udp, labels: ["dss/rtsp"], mediaRange: "6970-6999")
        let oneWay = MediaSession.verdict(check: inRange, sessions: [playing(received: 0)], host: "h", seconds: 1)
        XCTAssertEqual(oneWay.verdict, .mediaOneWay)
        XCTAssertEqual(oneWay.detail, "media one-way: RTP arrives, RTCP from the player is blocked on udp/6970-6999; real servers will drop the session")
        XCTAssertEqual(oneWay.media?.punchesReceived, 0)
        XCTAssertFalse(ProbeReport.passed([oneWay]))
        // Without the plan's range, the server pair the session used.
        XCTAssertTrue(MediaSession.verdict(check: session().check, sessions: [playing(received: 0)], host: "h", seconds: 1).detail.contains("blocked on udp/6970-6971;"))
        XCTAssertEqual(MediaSession.verdict(check: inRange, sessions: [playing(received: 4)], host: "h", seconds: 1).verdict, .ok)
        XCTAssertEqual(MediaSession.verdict(check: inRange, sessions: [playing(received: nil)], host: "h", seconds: 1).verdict, .ok, "not streamd: no claim either way")
        // Some clients' datagrams got in, others' did not: degraded, not one-way.
        let mixed = MediaSession.verdict(check: inRange, sessions: [playing(received: 0), playing(received: 3)], host: "h", seconds: 1)
        XCTAssertEqual(mixed.verdict, .mediaDegraded)
        XCTAssertTrue(mixed.detail.contains("1 of 2 clients failed"), mixed.detail)
        XCTAssertEqual(MediaProbe.checks(for: [
            ProbeTarget(transport: .tcp, port: 554, service: .rtsp, labels: [], range: "554/tcp"),
            ProbeTarget(transport: .udp, port: 6970, service: .rtp, labels: [], range: "6970-6999/udp"),
        ]).first?.mediaRange, "6970-6999")
    }

    func testChecksForAPlan() {
        func target(_ port: Int, _ transport: Transport, _ service: Service) -> ProbeTarget {
            ProbeTarget(transport: transport, port: port, service: service, labels: ["x"], range: "\(port)")
        }
        let dss = [target(554, .tcp, .rtsp), target(7070, .tcp, .rtsp), target(80, .tcp, .rtspHTTP), target(6970, .udp, .rtp), target(8000, .tcp, .icy)]
        XCTAssertEqual(MediaProbe.checks(for: dss).map { "\($0.port)/\($0.transport.rawValue)" }, ["554/udp", "554/tcp", "7070/udp", "7070/tcp", "80/http"])
        XCTAssertEqual(MediaProbe.checks(for: dss, transports: [.tcp]).map { "\($0.port)/\($0.transport.rawValue)" }, ["554/tcp", "7070/tcp"])
        // A plan with UDP ports but no media range: RTP cannot come over UDP, so only TCP is tried.
        XCTAssertEqual(MediaProbe.checks(for: [target(554, .tcp, .rtsp), target(10000, .udp, .broadcast)]).map(\.transport), [.tcp])
        XCTAssertEqual(MediaProbe.checks(for: [target(8000, .tcp, .icy)]), [])
    }
}
