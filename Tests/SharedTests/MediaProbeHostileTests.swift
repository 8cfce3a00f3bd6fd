import Foundation
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

/// The media check against RTSP servers that misbehave (issue 11, item 4): it must return within
/// a bound, with one result per check, whatever the server does after PLAY, and TEARDOWN never
/// decides a verdict. Over UDP and interleaved TCP, with one client and with 50.
final class MediaProbeHostileTests: XCTestCase {
    /// --timeout 0.5s and --media-duration 0.5s: a session costs about a second when all goes well.
    func play(_ behaviour: HostileRTSPServer.Behaviour, clients: Int, duration: Double = 0.5) throws -> (
        results: [ProbeResult], seconds: Double, server: HostileRTSPServer
    ) {
        let server = try HostileRTSPServer(behaviour)
        addTeardownBlock { server.stop() }
        var probe = MediaProbe(host: "127.0.0.1")
        probe.timeout = 0.5
        probe.duration = duration
        probe.clients = clients
        let checks = [MediaTransport.udp, .tcp].map { MediaProbe.Check(port: server.port, transport: $0, labels: ["hostile"]) }
        let started = Date()
        let results = probe.run(checks)
        return (results, Date().timeIntervalSince(started), server)
    }

    func testAServerThatClosesTheConnectionAfterPlay() throws {
        for clients in [1, 50] {
            let (results, seconds, _) = try play(.closeAfterPlay, clients: clients)
            XCTAssertEqual(
                results.map(\.target.name),
                ["\(results.first?.target.port ?? 0)/tcp media/udp", "\(results.first?.target.port ?? 0)/tcp media/tcp"])
            for result in results {
                XCTAssertEqual(result.verdict, .openWrongProtocol, "\(clients) clients: \(result.detail)")
                XCTAssertEqual(result.detail, "RTSP failed: the server closed the RTSP connection after PLAY", "\(clients) clients")
                XCTAssertEqual(result.media?.failedClients, clients)
            }
            XCTAssertLessThan(seconds, 6, "\(clients) clients: bounded, not a hang")
        }
    }

    func testAServerThatResetsTheConnectionAfterPlay() throws {
        for clients in [1, 50] {
            let (results, seconds, _) = try play(.resetAfterPlay, clients: clients)
            XCTAssertEqual(results.count, 2)
            for result in results {
                XCTAssertEqual(result.verdict, .openWrongProtocol, "\(clients) clients: \(result.detail)")
                XCTAssertTrue(result.detail.hasPrefix("RTSP failed: "), result.detail)
                XCTAssertTrue(result.detail.contains("reset the RTSP connection"), result.detail)
            }
            XCTAssertLessThan(seconds, 6, "\(clients) clients: bounded, not a hang")
        }
    }

    /// RTP arrives, TEARDOWN is never answered: the verdict is the media's, and the wait for the
    /// TEARDOWN replies is one short timeout for all sessions, not one per session.
    func testATeardownThatIsNeverAnsweredDecidesNothing() throws {
        for clients in [1, 50] {
            let (results, seconds, _) = try play(.ignoreTeardown, clients: clients)
            XCTAssertEqual(results.count, 2)
            for result in results {
                XCTAssertEqual(result.verdict, .ok, "\(clients) clients: \(result.detail)")
                XCTAssertTrue(result.detail.hasPrefix("media ok ("), result.detail)
                XCTAssertGreaterThan(result.media?.packets ?? 0, 0)
            }
            XCTAssertLessThan(seconds, 5, "\(clients) clients: setup, 0.5 s of media, and at most 0.5 s for every TEARDOWN at once")
        }
    }

    func testAServerThatAnswersGarbage() throws {
        for clients in [1, 50] {
            let (results, seconds, _) = try play(.garbage, clients: clients)
            XCTAssertEqual(results.count, 2)
            for result in results {
                XCTAssertEqual(result.verdict, .openWrongProtocol, "\(clients) clients: \(result.detail)")
                XCTAssertEqual(result.detail, "RTSP failed: DESCRIBE: expected an RTSP reply, got '...7.GARBAGE'", "\(clients) clients")
            }
            XCTAssertLessThan(seconds, 6, "\(clients) clients: bounded, not a hang")
        }
    }

    /// streamd's GET_PARAMETER reply counts the player's datagrams; the probe sends punch packets,
    /// asks for the count before PLAY, then sends a receiver report every second (item 8).
    func testThePlayerSendsRTCPAndReadsWhatTheServerReceived() throws {
        let (results, _, server) = try play(.streamdLike, clients: 1, duration: 2.5)
        XCTAssertEqual(results.map(\.verdict), [.ok, .ok], "\(results.map(\.detail))")
        XCTAssertGreaterThanOrEqual(server.datagramsFromPlayers, 6, "2 RTP and 2 RTCP punch packets, then a receiver report every second")
        XCTAssertEqual(results[0].media?.punchesReceived, 4, "asked before PLAY: the four punch packets")
    }

    func testRTPInButNothingFromThePlayerIsMediaOneWay() throws {
        let (results, _, server) = try play(.oneWay, clients: 1)
        let udp = results[0]
        XCTAssertEqual(udp.verdict, .mediaOneWay, udp.detail)
        XCTAssertEqual(
            udp.detail,
            "media one-way: RTP arrives, RTCP from the player is blocked on udp/\(server.mediaPort)-\(server.mediaPort + 1); real servers will drop the session"
        )
        XCTAssertGreaterThan(udp.media?.packets ?? 0, 0)
        XCTAssertEqual(results[1].verdict, .ok, "interleaved media needs no UDP path back")
    }
}
