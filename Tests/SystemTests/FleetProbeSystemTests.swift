import Foundation
import TestSupport
import XCTest

/// Three hosts in one probe through the applied firewall: three addresses of the server namespace,
/// one streamd, two plans. One JUnit report with a testsuite per host, each host's planned ports ok.
final class FleetProbeSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    var work: URL { served.work }

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "fleet")
    }

    override func tearDown() {
        served?.destroy()
    }

    func testThreeHostsOneReportATestsuiteEach() throws {
        let device = try XCTUnwrap(
            try pair.run(in: pair.server, ["ip", "-o", "link", "show", "type", "veth"]).stdout.split(separator: ":").dropFirst().first
        )
        .trimmingCharacters(in: .whitespaces).split(separator: "@").first.map(String.init)
        for address in ["192.0.2.11", "192.0.2.12"] {
            XCTAssertEqual(try pair.run(in: pair.server, ["ip", "addr", "add", "\(address)/24", "dev", try XCTUnwrap(device)]).status, 0)
        }
        // rtsp has 554/udp: streamd must answer a knock on a second address from that address,
        // or the probe's connected socket would not accept the reply.
        let plan = ["rtmp", "pna", "rtsp"]
        let apply = try pair.run(
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply"] + plan + ["-q", "--state-dir", work.appendingPathComponent("state").path])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        try served.startStreamd(plan)
        let targets = work.appendingPathComponent("targets").path
        try "192.0.2.1 rtmp pna\n192.0.2.11 rtmp\n192.0.2.12 rtsp pna   # RTSP, UDP too, and RealAudio\n".write(
            toFile: targets, atomically: true, encoding: .utf8)
        let result = try pair.run(
            in: pair.client,
            [TestPaths.binary("portctl").path, "probe", "--targets", targets] + plan + [
                "--key", served.key, "--timeout", "1s", "--format", "junit",
            ])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let junit = result.stdout
        for host in ["192.0.2.1", "192.0.2.11", "192.0.2.12"] {
            XCTAssertTrue(junit.contains("<testsuite name=\"\(host)\""), junit)
        }
        XCTAssertFalse(junit.contains("<failure"), junit)
        XCTAssertTrue(junit.contains("classname=\"192.0.2.11.rtmp\" name=\"1935/tcp rtmp/rtmp\""), junit)
        XCTAssertFalse(junit.contains("classname=\"192.0.2.11.pna\""), "192.0.2.11's line names rtmp only: \(junit)")
        XCTAssertTrue(junit.contains("classname=\"192.0.2.12.pna\""), junit)
        XCTAssertTrue(junit.contains("classname=\"192.0.2.12.rtsp\" name=\"554/udp rtsp/rtsp-udp\""), junit)
        XCTAssertEqual(junit.components(separatedBy: "<testcase ").count - 1, 6, junit)
    }
}
