import Foundation
import TestSupport
import XCTest

/// Issue 11 item 13: probes run back to back through the applied DSS firewall get every knock
/// answered on its first send, run after run. The lost first knocks were streamd's per-source rate
/// limit (100 at once, 50 a second): a DSS probe sends 40 knocks, so from the third run on, some
/// were dropped (the admin page's `dropped` grew by as many as were resent) and answered only when
/// resent, a third or two thirds of the timeout later, or never (`filtered`).
final class RepeatedProbeSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    let server = NamespacePair.serverAddress
    // Every port answers (admins included), so that a run takes milliseconds and the next follows at once.
    let plan = ["dss", "--admin-from", NamespacePair.clientAddress, "--broadcaster", NamespacePair.clientAddress]

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "curl"]) { throw XCTSkip(reason) }
        served = try StreamdNamespaces(name: "repeated-probes")
    }

    override func tearDown() {
        served?.destroy()
    }

    func testTwelveProbesInARowGetEveryKnockAnsweredOnTheFirstSend() throws {
        let apply = try pair.run(
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply"] + plan + ["-q", "--state-dir", served.work.appendingPathComponent("state").path])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        try served.startStreamd(plan)
        // A knock is resent after a third of the timeout: one answered well before that was answered first time.
        let timeout = 1.0
        let firstSend = timeout / 3 * 0.6
        var slowest: [Double] = []
        for run in 1...12 {
            let probe = try pair.run(
                in: pair.client,
                [TestPaths.binary("portctl").path, "probe", server] + plan + ["--key", served.key, "--timeout", "1s", "--format", "json"])
            XCTAssertEqual(probe.status, 0, "run \(run): \(probe.stdout)")
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any])
            let udp = (report["results"] as? [[String: Any]] ?? []).filter { $0["transport"] as? String == "udp" }
            let broadcast = udp.filter { ($0["port"] as? Int ?? 0) >= 10000 }
            XCTAssertEqual(udp.count, 40, "run \(run): the 30 media ports and 10 of the broadcast range")
            XCTAssertEqual(broadcast.count, 10, "run \(run)")
            let seconds = udp.map { Double($0["seconds"] as? String ?? "") ?? .infinity }
            slowest.append(seconds.max() ?? .infinity)
            for check in udp {
                let took = Double(check["seconds"] as? String ?? "") ?? .infinity
                XCTAssertLessThan(
                    took, firstSend, "run \(run): \(check["port"] ?? "?")/udp took \(took) s, so its first knock went unanswered: \(check)")
                XCTAssertEqual(check["verdict"] as? String, "ok", "run \(run): \(check)")
            }
        }
        // streamd dropped none of them: every knock was within its rate limit.
        let page = try pair.run(
            in: pair.client, ["curl", "-s", "-H", "Accept: application/json", "--max-time", "3", "http://\(server):1220/"])
        let listeners =
            (try JSONSerialization.jsonObject(with: Data(page.stdout.utf8)) as? [String: Any])?["listeners"] as? [[String: Any]] ?? []
        for name in ["6970-6999/udp", "10000-65535/udp"] {
            let listener = listeners.first { $0["name"] as? String == name }
            XCTAssertEqual(listener?["dropped"] as? Int, 0, "\(name): \(listener ?? [:])")
            XCTAssertEqual(listener?["knocks"] as? Int, name == "6970-6999/udp" ? 12 * 30 : 12 * 10, "one knock per check, none resent")
        }
        print("slowest UDP check per run, seconds: \(slowest.map { String(format: "%.3f", $0) }.joined(separator: " "))")
    }
}
