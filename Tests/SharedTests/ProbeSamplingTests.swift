import Foundation
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

#if canImport(Glibc)
    import Glibc
#endif

/// Which ports a probe checks (plans' ranges and --ports sampled, or --full) and how its results are reported.
final class ProbeSamplingTests: XCTestCase {
    func testSamplingIsReproducibleAndKeepsTheEnds() {
        let plan = Planner.plan(
            PlanRequest(profiles: [Fixtures.bundled("dss")], sourceSets: ["broadcasters": [Fixtures.cidr("192.0.2.2")]]))
        let first = Prober.targets(plan, sample: 8, seed: 7)
        XCTAssertEqual(first.map(\.port), Prober.targets(plan, sample: 8, seed: 7).map(\.port))
        XCTAssertNotEqual(first.map(\.port), Prober.targets(plan, sample: 8, seed: 8).map(\.port))
        let broadcast = first.filter { $0.labels == ["dss/broadcast"] }.map(\.port)
        XCTAssertEqual(broadcast.count, 10)
        XCTAssertEqual(broadcast.first, 10000)
        XCTAssertEqual(broadcast.last, 65535)
        XCTAssertEqual(first.filter { $0.labels == ["dss/media"] }.count, 30, "a 30-port range is probed whole")
        XCTAssertEqual(Prober.targets(plan, full: true).filter { $0.labels == ["dss/broadcast"] }.count, 55536)
    }

    /// `--ports 10000-65535/udp` is sampled like a plan's range, unless --full (item 14).
    func testPortsRangesAreSampledLikePlanRanges() throws {
        let wide = try PortSpec(parsing: "10000-65535/udp")
        let sampled = Prober.targets(ports: [wide])
        XCTAssertEqual(sampled.count, 10, "first, last and 8 random ports")
        XCTAssertEqual(sampled.first?.port, 10000)
        XCTAssertEqual(sampled.last?.port, 65535)
        XCTAssertEqual(sampled.map(\.port), Prober.targets(ports: [wide]).map(\.port), "reproducible")
        XCTAssertEqual(Prober.targets(ports: [wide], sample: 3, seed: 9).count, 5)
        XCTAssertEqual(Prober.targets(ports: [wide], full: true).count, 55536)
        XCTAssertEqual(Prober.targets(ports: [try PortSpec(parsing: "6970-6999/udp")]).count, 30, "64 ports or fewer: whole")
        XCTAssertEqual(
            Prober.targets(ports: [try PortSpec(parsing: "20000-20999/tcp")]).count, 1000, "TCP ranges are probed whole, as in plans")
    }

    func testReports() {
        let ok = ProbeResult(
            target: ProbeTarget(transport: .tcp, port: 554, service: .rtsp, labels: ["dss/rtsp"], range: "554/tcp"), verdict: .ok,
            detail: "RTSP/1.0 200 OK", seconds: 0.0123)
        let bad = ProbeResult(
            target: ProbeTarget(transport: .udp, port: 6970, service: .rtp, labels: ["dss/media"], range: "6970-6999/udp"),
            verdict: .filtered, detail: "filtered or no responder: silence for 2s", seconds: 2)
        XCTAssertEqual(
            ProbeReport.tap([ok, bad], host: "h"),
            """
            TAP version 13
            1..2
            ok 1 - h 554/tcp dss/rtsp: ok (RTSP/1.0 200 OK)
            not ok 2 - h 6970/udp dss/media: filtered (filtered or no responder: silence for 2s)

            """)
        let junit = ProbeReport.junit([ok, bad], host: "h<&>")
        XCTAssertTrue(junit.contains("<testsuite name=\"h&lt;&amp;&gt;\" tests=\"2\" failures=\"1\""))
        XCTAssertTrue(junit.contains("<failure message=\"filtered: filtered or no responder: silence for 2s\" type=\"filtered\"/>"))
        XCTAssertTrue(junit.contains("time=\"0.012\""))
        XCTAssertFalse(ProbeReport.passed([ok, bad]))
        XCTAssertEqual(ProbeReport.json([ok], host: "h")["passed"], .bool(true))
    }
}
