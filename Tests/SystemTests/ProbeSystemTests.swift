import Foundation
import TestSupport
import XCTest

/// The whole toolkit across two namespaces: portctl applies the plan, streamd answers, and
/// portctl probe proves every port from the client side.
final class ProbeSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    var work: URL { served.work }
    let server = NamespacePair.serverAddress
    let plan = ["dss", "--port80", "--admin-from", NamespacePair.clientAddress, "--broadcaster", NamespacePair.clientAddress]

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "probe")
    }

    override func tearDown() {
        served?.destroy()
    }

    var key: String { served.key }

    @discardableResult
    func startStreamd(_ arguments: [String]) throws -> Process { try served.startStreamd(arguments) }

    func probe(_ arguments: [String]) throws -> (Int32, [String: [String: Any]]) {
        let result = try pair.run(
            in: pair.client,
            [TestPaths.binary("portctl").path, "probe", server] + arguments + ["--key", key, "--timeout", "1s", "--format", "json"])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        var byPort: [String: [String: Any]] = [:]
        for item in json["results"] as! [[String: Any]] { byPort["\(item["port"]!)/\(item["transport"]!)"] = item }
        return (result.status, byPort)
    }

    func testTheWholeLoopThroughTheFirewall() throws {
        let apply = try pair.run(
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply"] + plan + ["-q", "--state-dir", work.appendingPathComponent("state").path])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        let streamd = try startStreamd(plan)

        let (status, results) = try probe(plan + ["--path", "/test"])
        XCTAssertEqual(status, 0, "every planned opening is ok: \(results.filter { $0.value["verdict"] as? String != "ok" })")
        XCTAssertEqual(results["554/tcp"]?["detail"] as? String, "RTSP/1.0 200 OK; DESCRIBE /test: SDP")
        XCTAssertEqual(results["80/tcp"]?["detail"] as? String, "RTSP-over-HTTP tunnel: HTTP/1.0 200 OK")
        XCTAssertEqual(
            (6970...6999).filter { results["\($0)/udp"]?["detail"] as? String == "open (streamd)" }.count, 30, "the whole media range")
        XCTAssertEqual(
            results.keys.filter { $0.hasSuffix("/udp") && Int($0.split(separator: "/")[0])! >= 10000 }.count, 10,
            "a sample of the broadcast range")
        XCTAssertEqual(results["1220/tcp"]?["verdict"] as? String, "ok")

        // Take 7070 out of the applied ruleset: that opening becomes filtered.
        XCTAssertEqual(
            try pair.run(in: pair.server, ["nft", "delete", "element", "inet", "portctl", "world_ports", "{ tcp . 7070 }"]).status, 0)
        let (afterRemoval, removed) = try probe(plan)
        XCTAssertEqual(afterRemoval, 1)
        XCTAssertEqual(removed["7070/tcp"]?["verdict"] as? String, "filtered")
        XCTAssertEqual(removed["554/tcp"]?["verdict"] as? String, "ok")

        // Stop the listener on 8000 (a streamd without the mp3 opening): it becomes closed.
        kill(streamd.processIdentifier, SIGTERM)
        streamd.waitUntilExit()
        _ = try startStreamd(["rtsp"])
        let (_, stopped) = try probe(["--ports", "8000/tcp"])
        XCTAssertEqual(stopped["8000/tcp"]?["verdict"] as? String, "closed")

        // The admin port from a second, non-admin client address: filtered.
        let (_, other) = try probe(["--ports", "1220/tcp", "--source", NamespacePair.otherClientAddress])
        XCTAssertEqual(other["1220/tcp"]?["verdict"] as? String, "filtered")
    }

    /// RTMPS and HTTPS on 443: the probe's own TLS client (the system's OpenSSL) completes a
    /// session with streamd and speaks RTMP or HTTP inside it; a server that answers in clear
    /// text on 443 is open, but not TLS.
    func testRTMPSAndHTTPSAreProvedInsideTLS() throws {
        let streamd = try startStreamd(["rtmps"])
        let (rtmpsStatus, rtmps) = try probe(["rtmps"])
        XCTAssertEqual(rtmpsStatus, 0, "\(rtmps)")
        XCTAssertEqual(rtmps["443/tcp"]?["detail"] as? String, "RTMPS: TLS, then S0 version 3 and S1")
        kill(streamd.processIdentifier, SIGTERM)
        streamd.waitUntilExit()

        let web = try startStreamd(["http-streaming"])
        let (_, https) = try probe(["--ports", "443/tcp"])
        XCTAssertEqual(https["443/tcp"]?["verdict"] as? String, "ok", "\(https)")
        XCTAssertEqual(https["443/tcp"]?["detail"] as? String, "HTTPS: HTTP/1.0 200 OK")
        kill(web.processIdentifier, SIGTERM)
        web.waitUntilExit()

        let clear = try pair.start(
            in: pair.server,
            [
                "python3", "-c",
                "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('0.0.0.0',443))\n"
                    + "s.listen()\nprint('ready',flush=True)\nfor _ in range(4):\n c,_=s.accept()\n c.sendall(b'HTTP/1.0 200 OK\\r\\n\\r\\n')\n c.close()",
            ], waitForLine: "ready")
        defer { kill(clear.processIdentifier, SIGKILL) }
        let (status, plain) = try probe(["rtmps"])
        XCTAssertEqual(status, 1)
        XCTAssertEqual(plain["443/tcp"]?["verdict"] as? String, "open-wrong-protocol", "\(plain)")
        XCTAssertTrue((plain["443/tcp"]?["detail"] as? String ?? "").hasPrefix("open, but no TLS handshake"), "\(plain)")
    }
}
