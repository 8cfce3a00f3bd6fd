import Foundation
import TestSupport
import XCTest

final class ProbeCommandTests: XCTestCase {
    /// The JUnit report validates against a JUnit XSD, for a failing and a passing probe.
    func testJUnitValidatesAgainstTheSchema() throws {
        guard let xmllint = SystemTestGate.find("xmllint") else {
            throw XCTSkip("xmllint is not installed (apt install libxml2-utils; scripts/install-deps --test does)")
        }
        let schema = TestPaths.repository.appendingPathComponent("Tests/PortctlTests/Corpus/junit/junit.xsd").path
        let closed = freeLoopbackPort()
        let result = try portctl([
            "probe", "127.0.0.1", "--ports", "\(closed)/tcp,\(closed)/udp", "--timeout", "300ms", "--format", "junit",
        ])
        XCTAssertEqual(result.status, 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: file) }
        try result.stdout.write(to: file, atomically: true, encoding: .utf8)
        let check = try runProcess(xmllint, ["--noout", "--schema", schema, file.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(result.stdout.contains("<failure message=\"closed: connection refused\" type=\"closed\"/>"), result.stdout)
    }

    func testUsageErrorsAndTAP() throws {
        XCTAssertEqual(
            try portctl(["probe", "127.0.0.1"]).stderr,
            "portctl: error: name profiles or --ports to probe, e.g. portctl probe 127.0.0.1 dss\n")
        XCTAssertEqual(
            try portctl(["probe", "127.0.0.1", "--ports", "80", "--timeout", "1s"]).stderr,
            "portctl: error: --ports: '80' has no transport (write it as 80/tcp or 80/udp)\n")
        XCTAssertEqual(
            try portctl(["probe", "127.0.0.1", "--ports", "80/tcp", "--timeout", "forever"]).stderr,
            "portctl: error: --timeout: 'forever' is not a duration between 1ms and 60s (e.g. 2s, 500ms)\n")
        XCTAssertEqual(try portctl(["probe", "127.0.0.1", "--ports", "80/tcp", "--timeout", "forever"]).status, 64)
        // --media's own flags: each bad value is named, with what would be valid, and nothing is sent.
        for (arguments, message) in [
            (
                ["--ports", "8000/tcp", "--media"],
                "--media: nothing to play: the plan has no RTSP port (or none for --media-transport); name an RTSP profile or --ports 554/tcp"
            ),
            (
                ["--ports", "80/tcp", "--media", "--media-transport", "udp"],
                "--media: nothing to play: the plan has no RTSP port (or none for --media-transport); name an RTSP profile or --ports 554/tcp"
            ),
            (["--ports", "554/tcp", "--media", "--clients", "0"], "--clients: 0 is out of range (1-2000)"),
            (
                ["--ports", "554/tcp", "--media", "--media-transport", "quic"],
                "--media-transport: 'quic' is not a media transport (udp, tcp, http)"
            ),
            (
                ["--ports", "554/tcp", "--media", "--media-duration", "2h"],
                "--media-duration: '2h' is not a duration between 1ms and 60s (e.g. 2s, 500ms)"
            ),
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
            (
                ["127.0.0.1", "--ports", "554/tcp", "--path", "/test\r\nX-Injected: yes"],
                "--path: '/test\\r\\nX-Injected: yes' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)"
            ),
            (
                ["127.0.0.1", "--ports", "554/tcp", "--path", "/a b"],
                "--path: '/a b' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)"
            ),
            (
                ["127.0.0.1", "--ports", "554/tcp", "--media", "--path", "/x\u{7F}"],
                "--path: '/x\\u{7F}' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)"
            ),
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
            (
                ["127.0.0.1", "--ports", "80/udp", "--icmp-budget", "-1"],
                "--icmp-budget: '-1' is not a duration between 0s and 600s (e.g. 30s; 0 for no retries)"
            ),
            (
                ["127.0.0.1", "--ports", "80/udp", "--icmp-budget", "1h"],
                "--icmp-budget: '1h' is not a duration between 0s and 600s (e.g. 30s; 0 for no retries)"
            ),
            // Trailing and doubled commas.
            (
                ["127.0.0.1", "--ports", "554/tcp,"],
                "--ports: '554/tcp,' has an empty item (a stray comma?); list ports as 554/tcp,6970-6999/udp"
            ),
            (
                ["127.0.0.1", "--ports", "554/tcp,,80/tcp"],
                "--ports: '554/tcp,,80/tcp' has an empty item (a stray comma?); list ports as 554/tcp,6970-6999/udp"
            ),
            (
                ["127.0.0.1", "--ports", "554/tcp", "--media", "--media-transport", "udp,"],
                "--media-transport: 'udp,' has an empty item (a stray comma?); list transports as udp,tcp,http"
            ),
            // The source and the host.
            (["127.0.0.1", "--ports", "80/tcp", "--source", "x"], "--source: 'x' is not an IP address (e.g. 192.0.2.2 or 2001:db8::2)"),
            (
                ["127.0.0.1", "--ports", "80/tcp", "--source", "2001:db8::2"],
                "--source: '2001:db8::2' is IPv6, but host '127.0.0.1' has no IPv6 address"
            ),
            (["127.0.0.1", "--ports", "80/tcp", "--source", "192.0.2.77"], "--source: '192.0.2.77' is not an address of this host"),
            (["", "--ports", "80/tcp"], "the host to probe is empty; name it, e.g. portctl probe stream.example.org dss"),
            (["--ports", "80/tcp", "--", "-1"], "host: '-1' starts with '-': it is not a host name or an address"),
            (["no-such-host.invalid", "--ports", "80/tcp"], "cannot resolve host 'no-such-host.invalid'"),
        ]
        for (arguments, message) in cases {
            let result = try portctl(["probe"] + arguments)
            XCTAssertEqual(
                result.stderr.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init), "portctl: error: \(message)",
                "\(arguments)")
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stdout, "", "\(arguments): nothing is probed")
        }
    }

    /// An echoed value is cut at 80 characters.
    func testLongValuesAreTruncatedInErrors() throws {
        let long = "/" + String(repeating: "a", count: 200) + " "
        let result = try portctl(["probe", "127.0.0.1", "--ports", "554/tcp", "--path", long])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(
            result.stderr,
            "portctl: error: --path: '/\(String(repeating: "a", count: 79))...' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)\n"
        )
    }

    /// The media check against a server that closes its control connection after PLAY: the probe
    /// does not crash (it used to, exit 139) and writes its report in every format (item 4).
    func testTheReportIsWrittenWhenTheRTSPServerHangsUpAfterPlay() throws {
        // --ports guesses RTSP from the port number: take 8554, 7070 or 554 on a loopback
        // address of its own (127.x.y.z), so that nothing else on the machine holds it.
        let host = "127.\(Int.random(in: 1...250)).\(Int.random(in: 1...250)).\(Int.random(in: 1...250))"
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        var bound: Int?
        for candidate in [8554, 7070, 554] where bound == nil {
            address.sin_port = in_port_t(UInt16(candidate)).bigEndian
            if withUnsafePointer(
                to: &address,
                { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } })
                == 0
            {
                bound = candidate
            }
        }
        guard let port = bound else {
            close(listener)
            throw XCTSkip("none of 8554, 7070 and 554 can be bound on \(host), so --ports cannot name an RTSP port here")
        }
        listen(listener, 64)
        addTeardownBlock {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread { Self.answerUntilPlayThenHangUp(client, host: host, port: port) }
            }
        }
        for format in ["table", "json", "junit", "tap"] {
            let started = Date()
            let result = try portctl([
                "probe", host, "--ports", "\(port)/tcp", "--media", "--media-transport", "udp,tcp", "--timeout", "500ms",
                "--media-duration", "500ms", "--format", format,
            ])
            XCTAssertEqual(result.status, 1, "\(format): \(result.stderr)")
            XCTAssertLessThan(Date().timeIntervalSince(started), 15)
            XCTAssertTrue(result.stdout.contains("the server closed the RTSP connection after PLAY"), "\(format): \(result.stdout)")
            XCTAssertTrue(
                result.stdout.contains("media/tcp") && result.stdout.contains("media/udp") || format == "json",
                "\(format): \(result.stdout)")
        }
    }

    /// Answers OPTIONS, DESCRIBE, SETUP and PLAY as an RTSP server would, then closes.
    static func answerUntilPlayThenHangUp(_ client: Int32, host: String, port: Int) {
        defer { close(client) }
        var pending = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<20 {
            let got = recv(client, &buffer, buffer.count, 0)
            if got <= 0 { return }
            pending += String(decoding: buffer[0..<got], as: UTF8.self)
            while let end = pending.range(of: "\r\n\r\n") {
                let head = String(pending[..<end.lowerBound])
                pending = String(pending[end.upperBound...])
                let method = head.prefix { $0 != " " }
                let cseq =
                    head.components(separatedBy: "\r\n").first { $0.hasPrefix("CSeq:") }?.dropFirst(5).trimmingCharacters(in: .whitespaces)
                    ?? "0"
                var reply = "RTSP/1.0 200 OK\r\nCSeq: \(cseq)\r\n"
                switch method {
                case "DESCRIBE":
                    let sdp = "v=0\r\nm=audio 0 RTP/AVP 0\r\na=control:trackID=0\r\n"
                    reply +=
                        "Content-Base: rtsp://\(host):\(port)/test/\r\nContent-Type: application/sdp\r\nContent-Length: \(sdp.utf8.count)\r\n\r\n\(sdp)"
                case "SETUP":
                    reply +=
                        head.contains("client_port=")
                        ? "Session: 1;timeout=60\r\nTransport: RTP/AVP;unicast;server_port=6970-6971\r\n\r\n"
                        : "Session: 1;timeout=60\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
                default:
                    reply += "\r\n"
                }
                _ = reply.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                if method == "PLAY" { return }
            }
        }
    }
}
