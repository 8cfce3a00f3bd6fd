import Foundation
import TestSupport
import XCTest

/// Real players receive streamd's test stream through the applied firewall (issue 7): ffprobe,
/// from the client namespace, over RTSP/UDP, RTSP/TCP, the HTTP tunnel on 80, RTMP, ICY and MMSH,
/// with the DSS plan (and RTMP's and MMS's ports) applied on the server; and `portctl probe
/// --media` agrees.
///
/// The server namespace also gets an egress policy of its own (a table `inet egress` that lets
/// out only replies), as hardened hosts and NAT gateways behave: there RTP leaves only as the
/// reply to the player's punch packets, which must first get in through the media range. That is
/// the half-open firewall the media check exists for: with the media range taken out of the
/// applied ruleset, RTSP still answers but no RTP arrives.
final class MediaSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    var work: URL { served.work }
    let server = NamespacePair.serverAddress
    let plan = [
        "dss", "rtmp", "mms", "--port80", "--admin-from", NamespacePair.clientAddress, "--broadcaster", NamespacePair.clientAddress,
    ]

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "ffprobe", "ffmpeg"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "media")
    }

    override func tearDown() {
        served?.destroy()
    }

    var key: String { served.key }

    func startStreamd(_ arguments: [String]) throws { try served.startStreamd(arguments) }

    /// ffprobe's codec, sample rate and packets read, e.g. `pcm_mulaw 8000 25`: it reads 25 packets
    /// (half a second of audio) and counts them, because its codec and rate come from the SDP
    /// alone and prove nothing about the media path. Every run is bounded by its own timeouts and ours.
    func ffprobe(_ url: String, _ options: [String]) throws -> (status: Int32, stream: String, stderr: String) {
        let result = try pair.run(
            in: pair.client,
            ["ffprobe", "-v", "error", "-analyzeduration", "1000000", "-read_intervals", "%+#25", "-count_packets"] + options
                + ["-show_entries", "stream=codec_name,sample_rate,nb_read_packets", "-of", "default=noprint_wrappers=1:nokey=1", url],
            timeout: 30)
        return (result.status, result.stdout.split(whereSeparator: \.isNewline).joined(separator: " "), result.stderr)
    }

    func probeMedia(_ arguments: [String]) throws -> (Int32, [String: [String: Any]]) {
        let result = try pair.run(
            in: pair.client,
            [TestPaths.binary("portctl").path, "probe", server] + arguments + [
                "--key", key, "--timeout", "1s", "--media", "--media-duration", "1s", "--format", "json",
            ])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        var byCheck: [String: [String: Any]] = [:]
        for item in json["results"] as! [[String: Any]] { byCheck["\(item["port"]!)/\(item["transport"]!) \(item["check"]!)"] = item }
        return (result.status, byCheck)
    }

    func testPlayersReceiveTheStreamOverEveryTransportAndTheHalfOpenFirewallIsCaught() throws {
        let apply = try pair.run(
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply"] + plan + ["-q", "--state-dir", work.appendingPathComponent("state").path])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        for command in [
            "add table inet egress", "add chain inet egress output { type filter hook output priority filter ; policy drop ; }",
            "add rule inet egress output ct state established,related accept", "add rule inet egress output oif lo accept",
        ] {
            let installed = try pair.run(in: pair.server, ["nft"] + command.split(separator: " ").map(String.init))
            XCTAssertEqual(installed.status, 0, "nft \(command): \(installed.stderr)")
        }
        try startStreamd(plan)

        // Every transport, through the firewall, reports the codec and rate streamd sends.
        let rtsp = "rtsp://\(server):554/test"
        let udp = try ffprobe(rtsp, ["-rtsp_transport", "udp", "-timeout", "5000000"])
        XCTAssertEqual(udp.stream, "pcm_mulaw 8000 25", "RTSP over UDP: \(udp.stderr)")
        let tcp = try ffprobe(rtsp, ["-rtsp_transport", "tcp", "-timeout", "5000000"])
        XCTAssertEqual(tcp.stream, "pcm_mulaw 8000 25", "RTSP interleaved on 554: \(tcp.stderr)")
        let tcp7070 = try ffprobe("rtsp://\(server):7070/test", ["-rtsp_transport", "tcp", "-timeout", "5000000"])
        XCTAssertEqual(tcp7070.stream, "pcm_mulaw 8000 25", "RTSP interleaved on 7070: \(tcp7070.stderr)")
        let http = try ffprobe("rtsp://\(server):80/test", ["-rtsp_transport", "http", "-timeout", "5000000"])
        XCTAssertEqual(http.stream, "pcm_mulaw 8000 25", "RTSP tunnelled over HTTP on 80: \(http.stderr)")
        // For rtmp:// ffmpeg's -timeout means listen; -rw_timeout bounds the read.
        let rtmp = try ffprobe("rtmp://\(server)/live/test", ["-rw_timeout", "5000000"])
        XCTAssertEqual(rtmp.stream, "pcm_mulaw 8000 25", "RTMP: \(rtmp.stderr)")
        let icy = try ffprobe("http://\(server):8000/test.mp3", ["-timeout", "5000000"])
        XCTAssertEqual(icy.stream, "mp3 44100 25", "ICY on 8000: \(icy.stderr)")
        let mmsh = try ffprobe("mmsh://\(server):1755/test", ["-rw_timeout", "5000000"])
        XCTAssertEqual(mmsh.stream, "pcm_mulaw 8000 25", "MMSH on 1755: \(mmsh.stderr)")

        // A publisher is accepted (and its stream discarded).
        let publish = try pair.run(
            in: pair.client,
            [
                "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "2", "-c:a", "aac", "-f", "flv",
                "rtmp://\(server)/live/x",
            ],
            timeout: 30)
        XCTAssertEqual(publish.status, 0, "RTMP publish: \(publish.stderr)")

        // The probe's own media check agrees on every RTSP port and the tunnel.
        let (status, results) = try probeMedia(plan)
        for check in ["554/tcp media/udp", "554/tcp media/tcp", "7070/tcp media/udp", "7070/tcp media/tcp", "80/tcp media/http"] {
            XCTAssertEqual(results[check]?["verdict"] as? String, "ok", "\(check): \(results[check] ?? [:])")
            XCTAssertTrue((results[check]?["detail"] as? String)?.hasPrefix("media ok (") ?? false)
            let media = results[check]?["media"] as? [String: Any]
            XCTAssertGreaterThanOrEqual(media?["packets"] as? Int ?? 0, 40, "about 50 packets in 1 s")
        }
        XCTAssertEqual(status, 0, "\(results.filter { $0.value["verdict"] as? String != "ok" })")

        // Take the media range out of the applied ruleset: RTSP still answers, RTP no longer arrives.
        let removed = try pair.run(in: pair.server, ["nft", "delete", "element", "inet", "portctl", "world_ports", "{ udp . 6970-6999 }"])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        let (blockedStatus, blocked) = try probeMedia(plan + ["--media-transport", "udp,tcp"])
        XCTAssertEqual(blockedStatus, 1)
        let verdict = blocked["554/tcp media/udp"]
        XCTAssertEqual(verdict?["verdict"] as? String, "media-blocked")
        let detail = verdict?["detail"] as? String ?? ""
        XCTAssertTrue(detail.hasPrefix("media blocked (RTSP ok, no RTP on udp/69"), detail)
        XCTAssertEqual(blocked["554/tcp port"]?["verdict"] as? String, "ok", "the RTSP port itself is still fine")
        XCTAssertEqual(blocked["554/tcp media/tcp"]?["verdict"] as? String, "ok", "interleaved media does not need the range")

        // ffprobe over UDP gets its SETUP and PLAY answered, then not one packet: it reports the
        // stream from the SDP with no packets read (ffprobe itself still exits 0).
        let failed = try ffprobe(rtsp, ["-rtsp_transport", "udp", "-timeout", "3000000"])
        XCTAssertEqual(failed.stream, "pcm_mulaw 8000 N/A", "ffprobe over UDP must read no packet: \(failed.stderr)")
        // Without a forced transport, ffmpeg times out on UDP and falls back to interleaved TCP.
        let fallback = try ffprobe(rtsp, ["-timeout", "3000000"])
        XCTAssertEqual(fallback.stream, "pcm_mulaw 8000 25", "UDP to TCP fallback: \(fallback.stderr)")
    }

    func testClientsLoadAndSessionsMax() throws {
        try startStreamd(["dss", "--world", "--sessions-max", "30"])
        // 20 sessions of each of two transports: 40 asked, 30 allowed; the rest get 453.
        let result = try pair.run(
            in: pair.client,
            [
                TestPaths.binary("portctl").path, "probe", server, "--ports", "554/tcp,6970-6999/udp", "--media", "--clients", "20",
                "--media-transport", "udp,tcp", "--media-duration", "1s", "--timeout", "2s", "--format", "json",
            ])
        XCTAssertEqual(result.status, 1, result.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let media = (json["results"] as! [[String: Any]]).filter { ($0["check"] as? String)?.hasPrefix("media/") ?? false }
        XCTAssertEqual(media.count, 2)
        let stats = media.compactMap { $0["media"] as? [String: Any] }
        XCTAssertEqual(stats.map { $0["clients"] as? Int ?? 0 }, [20, 20])
        XCTAssertEqual(stats.map { $0["failed_clients"] as? Int ?? 0 }.reduce(0, +), 10, "sessions beyond --sessions-max 30 are refused")
        XCTAssertTrue(media.allSatisfy { $0["verdict"] as? String == "media-degraded" || $0["verdict"] as? String == "ok" }, "\(media)")
        XCTAssertTrue(media.contains { ($0["detail"] as? String)?.contains("clients failed") ?? false })
    }

    /// The first line of a raw RTSP request's answer, and its Content-Base, from the client
    /// namespace: DESCRIBE with a relative URL, so streamd builds the URL from the address reached.
    func describeRelative(_ host: String) throws -> String {
        let script = """
            import socket, sys
            s = socket.create_connection((sys.argv[1], 554), timeout=3)
            s.sendall(b"DESCRIBE /test RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n")
            head = s.recv(4096).decode().split("\\r\\n")
            print(head[0], [l for l in head if l.startswith("Content-Base:")])
            """
        let result = try pair.run(in: pair.client, ["python3", "-c", script, host])
        return result.stdout + result.stderr
    }

    /// Issue 11 item 12a: over IPv6 between the namespaces, through the applied firewall (and an
    /// egress policy that lets RTP out only as the reply to the player's punch packets, so the
    /// media range must admit them over IPv6 too), ffprobe reads the stream over UDP and TCP, and
    /// URLs streamd builds bracket the IPv6 host and unmap an IPv4 client's address.
    func testPlayersReceiveTheStreamOverIPv6() throws {
        if let reason = NamespacePair.reasonWithoutIPv6 { throw XCTSkip(reason) }
        served.destroy()
        served = try StreamdNamespaces(name: "media-v6", ipv6: true)
        let plan6 = ["dss", "--admin-from", NamespacePair.clientAddress6, "--broadcaster", NamespacePair.clientAddress6]
        let apply = try pair.run(
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply"] + plan6 + ["-q", "--state-dir", work.appendingPathComponent("state").path])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        for command in [
            "add table inet egress", "add chain inet egress output { type filter hook output priority filter ; policy drop ; }",
            "add rule inet egress output ct state established,related accept", "add rule inet egress output oif lo accept",
            // Neighbour discovery is ICMPv6: a host that drops it has no IPv6 at all.
            "add rule inet egress output meta l4proto ipv6-icmp accept",
        ] {
            let installed = try pair.run(in: pair.server, ["nft"] + command.split(separator: " ").map(String.init))
            XCTAssertEqual(installed.status, 0, "nft \(command): \(installed.stderr)")
        }
        try startStreamd(plan6)

        let url = "rtsp://[\(NamespacePair.serverAddress6)]:554/test"
        let udp = try ffprobe(url, ["-rtsp_transport", "udp", "-timeout", "5000000"])
        XCTAssertEqual(udp.stream, "pcm_mulaw 8000 25", "RTSP over UDP, IPv6: \(udp.stderr)")
        let tcp = try ffprobe(url, ["-rtsp_transport", "tcp", "-timeout", "5000000"])
        XCTAssertEqual(tcp.stream, "pcm_mulaw 8000 25", "RTSP interleaved, IPv6: \(tcp.stderr)")

        XCTAssertEqual(
            try describeRelative(NamespacePair.serverAddress6), "RTSP/1.0 200 OK ['Content-Base: rtsp://[2001:db8::1]:554/test/']\n")
        // The same dual-stack socket, reached over IPv4: the address is the IPv4 one, not ::ffff:192.0.2.1.
        XCTAssertEqual(try describeRelative(server), "RTSP/1.0 200 OK ['Content-Base: rtsp://192.0.2.1:554/test/']\n")
    }
}
