import Foundation
import TestSupport
import XCTest

/// Issue 11 item 5, with real packets: knocks whose replies cannot be sent (forged with a raw
/// socket from the client namespace), and RTP to a player that became unroutable, must not close
/// any of streamd's UDP sockets. Before the fix one such datagram closed a listener for good.
final class UDPSendErrorSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    let scripts = TestPaths.repository.appendingPathComponent("Tests/SystemTests/Scripts")
    let server = NamespacePair.serverAddress
    let media = (6970...6999).map(String.init)
    let broadcast = ["10000", "10001", "23456", "40000", "65535"]

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "python3", "curl", "sysctl"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "udp-send-errors")
        // Take every source as it comes (the namespace's own setting; the host's is untouched), so
        // the forged datagrams reach streamd whatever this machine's default rp_filter is.
        for name in ["all", "default"] {
            try pair.run(in: pair.server, ["sysctl", "-q", "-w", "net.ipv4.conf.\(name).rp_filter=0"])
        }
    }

    override func tearDown() {
        served?.destroy()
    }

    func knock(_ ports: [String]) throws -> String {
        try pair.run(
            in: pair.client, ["python3", scripts.appendingPathComponent("knock.py").path, StreamdNamespaces.keyText, server] + ports
        ).stdout
    }

    func listeners() throws -> [String: [String: Any]] {
        let page = try pair.run(
            in: pair.server, ["curl", "-s", "-H", "Accept: application/json", "--max-time", "3", "http://127.0.0.1:1220/"])
        let status = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(page.stdout.utf8)) as? [String: Any], page.stdout)
        var byName: [String: [String: Any]] = [:]
        for listener in status["listeners"] as? [[String: Any]] ?? [] { byName[listener["name"] as? String ?? ""] = listener }
        return byName
    }

    func testKnocksWhoseRepliesCannotBeSentCloseNoListener() throws {
        try served.startStreamd(["dss", "--broadcaster", NamespacePair.clientAddress])
        XCTAssertEqual(try knock(media + broadcast), (media + broadcast).map { "\($0) valid\n" }.joined(), "every port answers before")

        // A source port 0 from a real address (EINVAL), the subnet's broadcast address (EACCES),
        // and an address the server has no route to (ENETUNREACH), on every port. Port 0 goes to one
        // port of the broadcast range only: its redirect gives later flows from the same address and
        // port a new source port (conntrack's reply tuples must differ), and those replies do go out.
        for (source, port, ports) in [
            (NamespacePair.clientAddress, "0", media + ["23456"]), ("192.0.2.255", "40000", media + broadcast),
            ("198.51.100.7", "40000", media + broadcast),
        ] {
            let forged = try pair.run(
                in: pair.client, ["python3", scripts.appendingPathComponent("forge_knock.py").path, source, port, server] + ports)
            XCTAssertEqual(forged.stdout, "\(ports.count)\n", forged.stderr)
        }
        usleep(300_000)

        let after = try knock(media + broadcast)
        XCTAssertEqual(
            after, (media + broadcast).map { "\($0) valid\n" }.joined(), "every port of 6970-6999 and of the broadcast range still answers")
        let counted = try listeners()
        XCTAssertEqual(counted["6970-6999/udp"]?["send_errors"] as? Int, 3 * media.count, "\(counted)")
        XCTAssertEqual(counted["10000-65535/udp"]?["send_errors"] as? Int, 1 + 2 * broadcast.count, "\(counted)")
        XCTAssertNotNil(counted["10000-65535/udp"]?["last_send_error"] as? String)
        let warnings = served.log.split(separator: "\n").filter { $0.contains("cannot send a UDP datagram") }
        XCTAssertEqual(warnings.count, 2, "one line per listener in 10 s, not one per datagram:\n\(served.log)")
    }

    func testRTPToAPlayerThatBecameUnroutableClosesNoMediaSocket() throws {
        // The player's address is routed to the server through the client; the route is then taken away.
        try pair.run(in: pair.client, ["ip", "addr", "add", "198.51.100.2/32", "dev", "lo"])
        let route = try pair.run(in: pair.server, ["ip", "route", "add", "198.51.100.0/24", "via", NamespacePair.clientAddress])
        XCTAssertEqual(route.status, 0, route.stderr)
        try served.startStreamd(["dss"])
        let player = try pair.start(
            in: pair.client,
            ["python3", scripts.appendingPathComponent("rtsp_udp_session.py").path, "198.51.100.2", server, "554", "5000", "8"],
            waitForLine: "playing")
        XCTAssertTrue(player.isRunning)
        let removed = try pair.run(in: pair.server, ["ip", "route", "del", "198.51.100.0/24"])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        // Every tick of the media pump (20 ms) is an RTP packet that sendto() refuses with
        // ENETUNREACH: wait (at most 3 s) until a few have been.
        var counted = try listeners()
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, counted["6970-6999/udp"]?["send_errors"] as? Int ?? 0 < 3 {
            usleep(50_000)
            counted = try listeners()
        }
        XCTAssertGreaterThanOrEqual(counted["6970-6999/udp"]?["send_errors"] as? Int ?? 0, 3, "\(counted)")
        XCTAssertTrue(
            (counted["6970-6999/udp"]?["last_send_error"] as? String ?? "").hasPrefix("Network is unreachable (to "), "\(counted)")
        XCTAssertEqual(
            try knock(media), media.map { "\($0) valid\n" }.joined(), "every media port still answers, the pair RTP left from included")
    }
}
