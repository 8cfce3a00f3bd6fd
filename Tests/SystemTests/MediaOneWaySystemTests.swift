import Foundation
import TestSupport
import XCTest

/// The other half of a half-open firewall (issue 11, item 8): the DSS plan applied without its
/// media range, on a host that lets everything out (no egress table, unlike MediaSystemTests).
/// RTP leaves the server and reaches the player, but the player's punch packets, new flows into
/// the media range, are dropped on the way in. streamd counts what reached it and says so on
/// GET_PARAMETER, which the probe asks before PLAY; `portctl probe --media` reports `media-one-way`.
final class MediaOneWaySystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    let server = NamespacePair.serverAddress

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "oneway")
    }

    override func tearDown() {
        served?.destroy()
    }

    func probeMedia() throws -> (Int32, [String: Any]) {
        let result = try pair.run(
            in: pair.client,
            [
                TestPaths.binary("portctl").path, "probe", server, "dss", "--key", served.key, "--timeout", "1s", "--media",
                "--media-transport", "udp,tcp",
                "--media-duration", "2s", "--format", "json",
            ])
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        let media = (json["results"] as? [[String: Any]] ?? []).first { $0["port"] as? Int == 554 && $0["check"] as? String == "media/udp" }
        return (result.status, media ?? ["stderr": result.stderr])
    }

    func testRTPOutButNothingInIsMediaOneWay() throws {
        let apply = try pair.run(
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply", "dss", "-q", "--state-dir", served.work.appendingPathComponent("state").path])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        try served.startStreamd(["dss"])

        // The whole plan: what the player sends reaches streamd.
        let (_, open) = try probeMedia()
        XCTAssertEqual(open["verdict"] as? String, "ok", "\(open)")
        let openStats = open["media"] as? [String: Any] ?? [:]
        XCTAssertEqual(openStats["punches_received"] as? Int, 4, "2 RTP and 2 RTCP punch packets, before PLAY: \(open)")
        XCTAssertGreaterThanOrEqual(openStats["server_received"] as? Int ?? 0, 6, "and a receiver report every second: \(open)")

        // The media range out of the input ruleset; output stays open.
        let removed = try pair.run(in: pair.server, ["nft", "delete", "element", "inet", "portctl", "world_ports", "{ udp . 6970-6999 }"])
        XCTAssertEqual(removed.status, 0, removed.stderr)
        let (status, oneWay) = try probeMedia()
        XCTAssertEqual(status, 1)
        XCTAssertEqual(oneWay["verdict"] as? String, "media-one-way", "\(oneWay)")
        XCTAssertEqual(
            oneWay["detail"] as? String,
            "media one-way: RTP arrives, RTCP from the player is blocked on udp/6970-6999; real servers will drop the session")
        let stats = oneWay["media"] as? [String: Any] ?? [:]
        XCTAssertGreaterThan(stats["packets"] as? Int ?? 0, 50, "RTP did arrive")
        XCTAssertEqual(stats["punches_received"] as? Int, 0, "not one punch packet got in")
        // The receiver reports sent after streamd's first sender report pass the firewall as
        // replies to it (conntrack): that is why the verdict rests on the punch packets.
        XCTAssertNotNil(stats["server_received"] as? Int)
    }
}
