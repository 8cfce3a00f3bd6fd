import Foundation
import TestSupport
import XCTest

final class ProbeCommandTests: XCTestCase {
    /// The JUnit report validates against a JUnit XSD, for a failing and a passing probe.
    func testJUnitValidatesAgainstTheSchema() throws {
        guard let xmllint = SystemTestGate.find("xmllint") else { throw XCTSkip("xmllint is not installed (apt install libxml2-utils; scripts/install-deps --test does)") }
        let schema = TestPaths.repository.appendingPathComponent("Tests/PortctlTests/Corpus/junit/junit.xsd").path
        let closed = freeLoopbackPort()
        let result = try portctl(["probe", "127.0.0.1", "--ports", "\(closed)/tcp,\(closed)/udp", "--timeout", "300ms", "--format", "junit"])
        XCTAssertEqual(result.status, 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: file) }
        try result.stdout.write(to: file, atomically: true, encoding: .utf8)
        let check = try runProcess(xmllint, ["--noout", "--schema", schema, file.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(result.stdout.contains("<failure message=\"closed: connection refused\" type=\"closed\"/>"), result.stdout)
    }

    func testUsageErrorsAndTAP() throws {
        XCTAssertEqual(try portctl(["probe", "127.0.0.1"]).stderr, "portctl: error: name profiles or --ports to probe, e.g. portctl probe 127.0.0.1 dss\n")
        XCTAssertEqual(try portctl(["probe", "127.0.0.1", "--ports", "80", "--timeout", "1s"]).stderr, "portctl: error: --ports: '80' has no transport (write it as 80/tcp or 80/udp)\n")
        XCTAssertEqual(try portctl(["probe", "127.0.0.1", "--ports", "80/tcp", "--timeout", "forever"]).stderr, "portctl: error: --timeout: 'forever' is not a duration between 1ms and 60s (e.g. 2s, 500ms)\n")
        XCTAssertEqual(try portctl(["probe", "127.0.0.1", "--ports", "80/tcp", "--timeout", "forever"]).status, 64)
        // --media's own flags: each bad value is named, with what would be valid, and nothing is sent.
        for (arguments, message) in [
            (["--ports", "8000/tcp", "--media"], "--media: nothing to play: the plan has no RTSP port (or none for --media-transport); name an RTSP profile or --ports 554/tcp"),
            (["--ports", "80/tcp", "--media", "--media-transport", "udp"], "--media: nothing to play: the plan has no RTSP port (or none for --media-transport); name an RTSP profile or --ports 554/tcp"),
            (["--ports", "554/tcp", "--media", "--clients", "0"], "--clients: 0 is out of range (1-2000)"),
            (["--ports", "554/tcp", "--media", "--media-transport", "quic"], "--media-transport: 'quic' is not a media transport (udp, tcp, http)"),
            (["--ports", "554/tcp", "--media", "--media-duration", "2h"], "--media-duration: '2h' is not a duration between 1ms and 60s (e.g. 2s, 500ms)"),
        ] {
            let result = try portctl(["probe", "127.0.0.1"] + arguments)
            XCTAssertEqual(result.stderr, "portctl: error: \(message)\n", "\(arguments)")
            XCTAssertEqual(result.status, 64, "\(arguments)")
            XCTAssertEqual(result.stdout, "", "no report: nothing was probed")
        }
        let closed = freeLoopbackPort()
        let tap = try portctl(["probe", "127.0.0.1", "--ports", "\(closed)/tcp", "--timeout", "300ms", "--format", "tap"])
        XCTAssertEqual(tap.stdout, "TAP version 13\n1..1\nnot ok 1 - 127.0.0.1 \(closed)/tcp --ports: closed (connection refused)\n")
        XCTAssertEqual(tap.status, 1)
    }
}
