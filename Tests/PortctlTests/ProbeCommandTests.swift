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

    /// Bad values of probe's flags and host (issue 11, item 10): each is a usage error (64) whose
    /// first line names the flag and the value and says what is valid, and nothing is probed.
    func testBadValuesAreUsageErrors() throws {
        let duration = "is not a duration between 1ms and 60s (e.g. 2s, 500ms)"
        let cases: [([String], String)] = [
            // CRLF injection into DESCRIBE, and other characters a request line cannot carry.
            (["127.0.0.1", "--ports", "554/tcp", "--path", "/test\r\nX-Injected: yes"],
             "--path: '/test\\r\\nX-Injected: yes' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)"),
            (["127.0.0.1", "--ports", "554/tcp", "--path", "/a b"], "--path: '/a b' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)"),
            (["127.0.0.1", "--ports", "554/tcp", "--media", "--path", "/x\u{7F}"], "--path: '/x\\u{7F}' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)"),
            // Negative numbers: the range, not "Missing value".
            (["127.0.0.1", "--ports", "80/tcp", "--timeout", "-1"], "--timeout: '-1' \(duration)"),
            (["127.0.0.1", "--ports", "80/tcp", "--sample", "-1"], "--sample: -1 is out of range (0-10000)"),
            (["127.0.0.1", "--ports", "80/tcp", "--concurrency", "-1"], "--concurrency: -1 is out of range (1-4096)"),
            (["127.0.0.1", "--ports", "554/tcp", "--media", "--clients", "-5"], "--clients: -5 is out of range (1-2000)"),
            (["127.0.0.1", "--ports", "80/tcp", "--seed", "-1"], "--seed: '-1' is not a seed (a whole number, 0-18446744073709551615)"),
            (["127.0.0.1", "--ports", "80/tcp", "--seed", "1.5"], "--seed: '1.5' is not a seed (a whole number, 0-18446744073709551615)"),
            (["127.0.0.1", "--ports", "554/tcp", "--media", "--media-duration", "-1"], "--media-duration: '-1' \(duration)"),
            // Not numbers, or outside the documented 1 ms to 60 s.
            (["127.0.0.1", "--ports", "80/tcp", "--timeout", "nan"], "--timeout: 'nan' \(duration)"),
            (["127.0.0.1", "--ports", "80/tcp", "--timeout", "inf"], "--timeout: 'inf' \(duration)"),
            (["127.0.0.1", "--ports", "80/tcp", "--timeout", "1e309"], "--timeout: '1e309' \(duration)"),
            (["127.0.0.1", "--ports", "80/tcp", "--timeout", "0.0000001"], "--timeout: '0.0000001' \(duration)"),
            (["127.0.0.1", "--ports", "80/tcp", "--timeout", "0x10"], "--timeout: '0x10' \(duration)"),
            (["127.0.0.1", "--ports", "554/tcp", "--media", "--media-duration", "nan"], "--media-duration: 'nan' \(duration)"),
            (["127.0.0.1", "--ports", "80/udp", "--icmp-budget", "-1"], "--icmp-budget: '-1' is not a duration between 0s and 600s (e.g. 30s; 0 for no retries)"),
            (["127.0.0.1", "--ports", "80/udp", "--icmp-budget", "1h"], "--icmp-budget: '1h' is not a duration between 0s and 600s (e.g. 30s; 0 for no retries)"),
            // Trailing and doubled commas.
            (["127.0.0.1", "--ports", "554/tcp,"], "--ports: '554/tcp,' has an empty item (a stray comma?); list ports as 554/tcp,6970-6999/udp"),
            (["127.0.0.1", "--ports", "554/tcp,,80/tcp"], "--ports: '554/tcp,,80/tcp' has an empty item (a stray comma?); list ports as 554/tcp,6970-6999/udp"),
            (["127.0.0.1", "--ports", "554/tcp", "--media", "--media-transport", "udp,"], "--media-transport: 'udp,' has an empty item (a stray comma?); list transports as udp,tcp,http"),
            // The source and the host.
            (["127.0.0.1", "--ports", "80/tcp", "--source", "x"], "--source: 'x' is not an IP address (e.g. 192.0.2.2 or 2001:db8::2)"),
            (["127.0.0.1", "--ports", "80/tcp", "--source", "2001:db8::2"], "--source: '2001:db8::2' is IPv6, but host '127.0.0.1' has no IPv6 address"),
            (["127.0.0.1", "--ports", "80/tcp", "--source", "192.0.2.77"], "--source: '192.0.2.77' is not an address of this host"),
            (["", "--ports", "80/tcp"], "the host to probe is empty; name it, e.g. portctl probe stream.example.org dss"),
            (["--ports", "80/tcp", "--", "-1"], "host: '-1' starts with '-': it is not a host name or an address"),
            (["no-such-host.invalid", "--ports", "80/tcp"], "cannot resolve host 'no-such-host.invalid'"),
        ]
        for (arguments, message) in cases {
            let result = try portctl(["probe"] + arguments)
            XCTAssertEqual(result.stderr.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init), "portctl: error: \(message)", "\(arguments)")
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(arguments): nothing is probed")
        }
    }

    /// An echoed value is cut at 80 characters.
    func testLongValuesAreTruncatedInErrors() throws {
        let long = "/" + String(repeating: "a", count: 200) + " "
        let result = try portctl(["probe", "127.0.0.1", "--ports", "554/tcp", "--path", long])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stderr, "portctl: error: --path: '/\(String(repeating: "a", count: 79))...' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)\n")
    }
}
