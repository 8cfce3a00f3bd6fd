import PortModel
import XCTest

@testable import PortProbe
@testable import StreamWire

/// The media verdict on crafted sessions: blocked, one-way, degraded, ok, failed, given up on.
/// The real sessions run in SystemTests/MediaSystemTests and MediaProbeHostileTests.
final class MediaVerdictTests: XCTestCase {
    let udp = MediaProbe.Check(port: 554, transport: .udp, labels: ["dss/rtsp"])
    let inRange = MediaProbe.Check(port: 554, transport: .udp, labels: ["dss/rtsp"], mediaRange: "6970-6999")

    /// A session that received `count` packets on time (none lost but `missing`), from the server pair 6970-6971.
    func session(packets count: Int = 100, missing: Set<Int> = [], punches: Int? = nil) -> MediaVerdict.Session {
        MediaVerdict.Session(stats: RTPFixture.stream(count: count, missing: missing), punchesReceived: punches, serverPorts: "6970-6971")
    }

    func result(_ check: MediaProbe.Check, _ sessions: [MediaVerdict.Session], overdue: Int = 0) -> ProbeResult {
        MediaVerdict.result(check: check, sessions: sessions, seconds: 1, overdue: overdue, limit: 14)
    }

    func testNoRTPIsMediaBlockedOnEachTransportsPath() {
        let none = result(udp, [session(packets: 0)])
        XCTAssertEqual(none.verdict, .mediaBlocked)
        XCTAssertEqual(none.detail, "media blocked (RTSP ok, no RTP on udp/6970-6971)")
        XCTAssertEqual(none.target.name, "554/tcp media/udp")
        XCTAssertEqual(none.media?.failedClients, 1)
        XCTAssertEqual(result(udp, [MediaVerdict.Session()]).detail, "media blocked (RTSP ok, no RTP on the media range)")
        let tcp = MediaProbe.Check(port: 554, transport: .tcp, labels: [])
        XCTAssertEqual(result(tcp, [MediaVerdict.Session()]).detail, "media blocked (RTSP ok, no interleaved RTP on tcp/554)")
        let http = MediaProbe.Check(port: 80, transport: .http, labels: [])
        let tunnel = result(http, [MediaVerdict.Session()])
        XCTAssertEqual(tunnel.detail, "media blocked (RTSP ok, no RTP through the HTTP tunnel on tcp/80)")
        XCTAssertEqual(tunnel.target.service, .rtspHTTP)
    }

    func testOkAndDegradedByLoss() {
        let ok = result(udp, [session()])
        XCTAssertEqual(ok.verdict, .ok)
        XCTAssertEqual(ok.detail, "media ok (100 packets, loss 0.00%, jitter 0.00 ms)")
        XCTAssertEqual(ok.media?.serverPorts, ["6970-6971"])
        // 9 of the 100 after the first lost: 9%, over the 5% line.
        let lossy = result(udp, [session(missing: Set(stride(from: 10, to: 100, by: 10)))])
        XCTAssertEqual(lossy.verdict, .mediaDegraded)
        XCTAssertEqual(lossy.detail, "media degraded (91 packets, loss 9.00%, jitter 0.00 ms)")
        XCTAssertEqual(lossy.media?.lost, 9)
        // 5 of 100 is still ok.
        XCTAssertEqual(result(udp, [session(missing: [10, 20, 30, 40, 50])]).verdict, .ok)
    }

    func testManyClientsReportThe99thPercentileAndTheirFailures() {
        let failed = MediaVerdict.Session(failure: MediaFailure(.closed, "RTSP: connection refused"))
        let three = result(udp, [session(), session(), failed])
        XCTAssertEqual(three.verdict, .mediaDegraded)
        XCTAssertEqual(three.detail, "media degraded (3 clients, 200 packets, loss 0.00%, jitter 0.00 ms p99, 1 of 3 clients failed)")
        XCTAssertEqual(three.media?.serverPorts, ["6970-6971"], "each server pair once")
        let overdue = result(udp, [session()], overdue: 1)
        XCTAssertEqual(overdue.media?.clients, 2)
        XCTAssertTrue(overdue.detail.hasSuffix(", 1 of 2 clients failed)"), overdue.detail)
    }

    func testWhenEverySessionFailedTheFirstFailureIsTheVerdict() {
        let refused = MediaVerdict.Session(failure: MediaFailure(.closed, "RTSP: connection refused"))
        let silent = MediaVerdict.Session(failure: MediaFailure(.filtered, "RTSP: no answer to the connection within 2s"))
        let both = result(udp, [refused, silent])
        XCTAssertEqual(both.verdict, .closed)
        XCTAssertEqual(both.detail, "RTSP failed: RTSP: connection refused")
        XCTAssertEqual(both.media?.failedClients, 2)
        let givenUp = result(udp, [], overdue: 2)
        XCTAssertEqual(givenUp.verdict, .error)
        XCTAssertEqual(givenUp.detail, "RTSP failed: the RTSP exchange did not finish within 14s; the probe stopped waiting for it")
    }

    func testAHangUpAfterPlayIsTheServersDoing() {
        var gone = MediaVerdict.Session()
        gone.lost = "reset"
        let reset = result(udp, [gone])
        XCTAssertEqual(reset.verdict, .openWrongProtocol)
        XCTAssertEqual(reset.detail, "RTSP failed: the server reset the RTSP connection after PLAY")
        // After some media it only fails that client.
        var partial = session()
        partial.lost = "closed"
        XCTAssertEqual(result(udp, [partial]).verdict, .mediaDegraded)
    }

    /// streamd's count of the punch packets that reached it before PLAY decides between ok and
    /// one-way (issue 11, item 8).
    func testOneWayWhenStreamdReceivedNothingFromThePlayer() {
        let oneWay = result(inRange, [session(packets: 50, punches: 0)])
        XCTAssertEqual(oneWay.verdict, .mediaOneWay)
        XCTAssertEqual(
            oneWay.detail,
            "media one-way: RTP arrives, RTCP from the player is blocked on udp/6970-6999; real servers will drop the session")
        XCTAssertEqual(oneWay.media?.punchesReceived, 0)
        XCTAssertFalse(ProbeReport.passed([oneWay]))
        // Without the plan's range, the server pair the session used.
        XCTAssertTrue(result(udp, [session(packets: 50, punches: 0)]).detail.contains("blocked on udp/6970-6971;"))
        XCTAssertEqual(result(inRange, [session(packets: 50, punches: 4)]).verdict, .ok)
        XCTAssertEqual(result(inRange, [session(packets: 50, punches: nil)]).verdict, .ok, "not streamd: no claim either way")
        // Some clients' datagrams got in, others' did not: degraded, not one-way.
        let mixed = result(inRange, [session(packets: 50, punches: 0), session(packets: 50, punches: 3)])
        XCTAssertEqual(mixed.verdict, .mediaDegraded)
        XCTAssertTrue(mixed.detail.contains("1 of 2 clients failed"), mixed.detail)
        XCTAssertEqual(mixed.media?.punchesReceived, 3)
    }
}
