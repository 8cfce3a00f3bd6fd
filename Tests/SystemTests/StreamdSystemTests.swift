import Foundation
import TestSupport
import XCTest

/// streamd in a server namespace, answering a client namespace across a veth pair.
final class StreamdSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    var work: URL { served.work }
    let scripts = TestPaths.repository.appendingPathComponent("Tests/SystemTests/Scripts")
    let server = NamespacePair.serverAddress

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "python3", "curl"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "streamd")
    }

    override func tearDown() {
        served?.destroy()
    }

    var log: String { served.log }

    @discardableResult
    func startStreamd(_ arguments: [String]) throws -> Process { try served.startStreamd(arguments) }

    func client(_ arguments: [String]) throws -> ProcessResult { try pair.run(in: pair.client, arguments) }

    func testStreamdAnswersEveryPlannedPortInItsProtocol() throws {
        let streamd = try startStreamd(["dss", "--port80", "--broadcaster", NamespacePair.clientAddress])
        XCTAssertTrue(log.contains("serving listeners=7 of 7 user=nobody"), log)

        let options = try client(["curl", "-s", "-i", "-X", "OPTIONS", "--max-time", "3", "rtsp://\(server):554/test"])
        XCTAssertTrue(options.stdout.hasPrefix("RTSP/1.0 200 OK\r\nCSeq: 1\r\n"), options.stdout + options.stderr)
        XCTAssertTrue(
            try client(["curl", "-s", "-i", "-X", "OPTIONS", "--max-time", "3", "rtsp://\(server):7070/test"]).stdout.hasPrefix(
                "RTSP/1.0 200 OK"))
        let page = try client(["curl", "-s", "-i", "--max-time", "3", "http://\(server)/"])
        XCTAssertTrue(page.stdout.hasPrefix("HTTP/1.0 200 OK"), page.stdout)
        let icy = try client(["curl", "-s", "-D", "-", "-o", "/dev/null", "--max-time", "3", "http://\(server):8000/test.mp3"])
        XCTAssertTrue(icy.stdout.contains("icy-name: streamd test stream"), icy.stdout)

        let knocks = try client([
            "python3", scripts.appendingPathComponent("knock.py").path, "portctl-test-key", server, "6970", "6985", "6999", "10000",
            "23456", "65535",
        ])
        XCTAssertEqual(knocks.stdout, "6970 valid\n6985 valid\n6999 valid\n10000 valid\n23456 valid\n65535 valid\n", knocks.stderr)
        let wrongKey = try client(["python3", scripts.appendingPathComponent("knock.py").path, "another-key", server, "6970"])
        XCTAssertEqual(wrongKey.stdout, "6970 invalid\n", "a reply under another key does not verify")

        // The admin page binds to loopback: no admins were declared.
        let admin = try client(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "http://\(server):1220/"])
        XCTAssertEqual(admin.stdout, "000", "the admin port is not reachable from outside")
        let local = try pair.run(
            in: pair.server, ["curl", "-s", "-H", "Accept: application/json", "--max-time", "3", "http://127.0.0.1:1220/"])
        let status = try JSONSerialization.jsonObject(with: Data(local.stdout.utf8)) as! [String: Any]
        let listeners = status["listeners"] as! [[String: Any]]
        XCTAssertEqual(listeners.count, 7)
        XCTAssertTrue(listeners.allSatisfy { $0["bound"] as? Bool == true }, "\(listeners)")
        XCTAssertGreaterThan(listeners.first { $0["name"] as? String == "6970-6999/udp" }?["knocks"] as? Int ?? 0, 2)

        // Served as nobody, not root.
        let statusFile = try String(contentsOfFile: "/proc/\(streamdPID(streamd))/status", encoding: .utf8)
        let uid = statusFile.split(separator: "\n").first { $0.hasPrefix("Uid:") } ?? ""
        XCTAssertFalse(uid.contains("\t0\t"), "streamd dropped root: \(uid) (pid \(streamdPID(streamd)))")

        // SIGTERM drains and exits 0; the range redirect goes with it.
        kill(streamdPID(streamd), SIGTERM)
        streamd.waitUntilExit()
        XCTAssertEqual(streamd.terminationStatus, 0, "SIGTERM drains and exits 0")
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, try pair.run(in: pair.server, ["nft", "list", "tables"]).stdout.contains("streamd") { usleep(100_000) }
        let tables = try pair.run(in: pair.server, ["nft", "list", "tables"]).stdout
        XCTAssertFalse(tables.contains("streamd"), tables)
    }

    func testRTMPHandshakeAndConnect() throws {
        _ = try startStreamd(["rtmp"])
        let result = try client(["python3", scripts.appendingPathComponent("rtmp_connect.py").path, server, "1935"])
        XCTAssertEqual(result.stdout, "S0=3 S1=1536 S2echo=yes result\n", result.stderr)
    }

    func testRTMPSAndHTTPSSpeakTLS() throws {
        _ = try startStreamd(["rtmps", "http-streaming"])
        let rtmps = try client(["python3", scripts.appendingPathComponent("rtmps_handshake.py").path, server, "443"])
        XCTAssertTrue(rtmps.stdout.hasSuffix("S0 3 S1 1536 S2echo True\n"), rtmps.stdout + rtmps.stderr)
        XCTAssertTrue(rtmps.stdout.hasPrefix("TLSv1."), rtmps.stdout)
        let https = try client(["curl", "-sk", "-i", "--max-time", "3", "https://\(server)/"])
        XCTAssertTrue(https.stdout.hasPrefix("HTTP/1.0 200 OK"), https.stdout)
        XCTAssertTrue(log.contains("self-signed certificate"), log)
    }

    func testABusyPortIsReportedWithItsOwnerAndTheRestServe() throws {
        let squatter = try pair.start(
            in: pair.server,
            [
                "python3", "-c",
                "import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',7070))\ns.listen()\nprint('ready',flush=True)\ntime.sleep(60)",
            ], waitForLine: "ready")
        _ = try startStreamd(["dss"])
        XCTAssertTrue(log.contains("listener=7070/tcp reason=port 7070: address in use: held by \(squatter.processIdentifier) "), log)
        XCTAssertTrue(log.contains("serving listeners=4 of 5"), log)
        XCTAssertTrue(
            try client(["curl", "-s", "-i", "-X", "OPTIONS", "--max-time", "3", "rtsp://\(server):554/x"]).stdout.hasPrefix(
                "RTSP/1.0 200 OK"))
    }

    /// The pid of streamd itself: `ip netns exec` replaces itself with the program it runs.
    func streamdPID(_ process: Process) -> pid_t {
        let comm = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/comm", encoding: .utf8)) ?? ""
        XCTAssertEqual(comm, "streamd\n")
        return process.processIdentifier
    }

    func testTheRangeRedirectTakesKnocksButNotOtherLocalFlows() throws {
        // A local UDP service on a port inside the redirected broadcast range, beside streamd.
        _ = try pair.start(
            in: pair.server, ["python3", scripts.appendingPathComponent("listen.py").path, "127.0.0.1", "40000/udp"], waitForLine: "ready")
        try startStreamd(["dss", "--broadcaster", NamespacePair.clientAddress, "--broadcaster", "127.0.0.1"])
        let local = try pair.run(in: pair.server, ["python3", scripts.appendingPathComponent("reach.py").path, "127.0.0.1", "40000/udp"])
        XCTAssertEqual(
            local.stdout, "40000/udp open\n", "a local program's datagram reaches the local service, not streamd: \(local.stderr)")
        let knocks = try pair.run(
            in: pair.server,
            ["python3", scripts.appendingPathComponent("knock.py").path, StreamdNamespaces.keyText, "127.0.0.1", "10001", "40001"])
        XCTAssertEqual(knocks.stdout, "10001 valid\n40001 valid\n", "a local knock is still redirected: \(knocks.stderr)")
        let remote = try client(["python3", scripts.appendingPathComponent("knock.py").path, StreamdNamespaces.keyText, server, "40002"])
        XCTAssertEqual(remote.stdout, "40002 valid\n")
    }

    /// Issue 11 item 9: an admin makes the key with `head -c 32 /dev/urandom`; the same file works
    /// for streamd and for the probe, and both warn that others may read it.
    func testAKeyFileOfRandomBytesWorksForStreamdAndTheProbe() throws {
        let keyPath = work.appendingPathComponent("urandom.key").path
        let made = try runProcess("/bin/sh", ["-c", "umask 022; head -c 32 /dev/urandom > '\(keyPath)'"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let streamdErrors = work.appendingPathComponent("streamd.stderr")
        try served.startStreamd(["dss", "--broadcaster", NamespacePair.clientAddress], key: keyPath, stderr: streamdErrors)
        XCTAssertTrue(log.contains("serving listeners="), log)
        let warning =
            "--key: '\(keyPath)' is readable by its group or others (mode 0644): anyone who reads it can forge streamd's replies; chmod 600 \(keyPath)"
        let streamdStderr = (try? String(contentsOf: streamdErrors, encoding: .utf8)) ?? ""
        XCTAssertTrue(streamdStderr.contains("streamd: warning: " + warning), streamdStderr)

        let probe = try client([
            TestPaths.binary("portctl").path, "probe", server, "--ports", "6970/udp,6999/udp,23456/udp", "--key", keyPath, "--timeout",
            "1s", "--format", "json",
        ])
        XCTAssertEqual(probe.status, 0, probe.stdout + probe.stderr)
        XCTAssertTrue(probe.stderr.contains("portctl: warning: " + warning), probe.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any]
        let details = (report?["results"] as? [[String: Any]] ?? []).map { "\($0["port"] ?? "?") \($0["detail"] ?? "?")" }
        XCTAssertEqual(
            details, ["6970 open (streamd)", "6999 open (streamd)", "23456 open (streamd)"], "replies signed with the file's bytes verify")
        // Another key's replies do not verify: the key really is the file's bytes.
        let other = try client([
            TestPaths.binary("portctl").path, "probe", server, "--ports", "6970/udp", "--key", served.key, "--timeout", "1s", "--format",
            "json",
        ])
        XCTAssertTrue(other.stdout.contains("a reply that is not streamd's knock"), other.stdout)
    }
}
