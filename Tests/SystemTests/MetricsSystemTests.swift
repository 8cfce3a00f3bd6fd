import Foundation
import TestSupport
import XCTest

/// The two Prometheus outputs against real traffic: `portctl status --format prometheus` after
/// probes went through the applied ruleset, and streamd's /metrics on its admin port. Both must
/// pass `promtool check metrics` (Debian's prometheus package).
final class MetricsSystemTests: XCTestCase {
    var served: StreamdNamespaces!
    var pair: NamespacePair { served.pair }
    var work: URL { served.work }
    let server = NamespacePair.serverAddress
    let plan = ["dss", "--admin-from", NamespacePair.clientAddress]
    var state: String { work.appendingPathComponent("state").path }

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "curl"]) { throw XCTSkip(reason) }
        guard SystemTestGate.find("promtool") != nil else {
            throw XCTSkip("promtool is not installed (scripts/install-deps --test installs Debian's prometheus package for it)")
        }
        served = try StreamdNamespaces(name: "metrics")
    }

    override func tearDown() {
        served?.destroy()
    }

    func promtool(_ text: String) throws -> ProcessResult {
        let file = work.appendingPathComponent("metrics-\(UUID().uuidString).prom")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try runProcess("/bin/sh", ["-c", "promtool check metrics < \"$0\"", file.path])
    }

    /// The value of the one sample of `name` whose labels include every `labels` pair.
    func value(_ text: String, _ name: String, _ labels: [String] = []) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard labels.allSatisfy({ line.contains($0) }) else { continue }
            return Int(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    func testStatusAndStreamdMetricsCountRealTrafficAndPassPromtool() throws {
        let apply = try pair.run(in: pair.server, [TestPaths.binary("portctl").path, "apply"] + plan + ["-q", "--state-dir", state])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        try served.startStreamd(plan)
        let probe = try pair.run(
            in: pair.client,
            [TestPaths.binary("portctl").path, "probe", server] + plan + ["--key", served.key, "--timeout", "1s", "--format", "json"])
        XCTAssertEqual(probe.status, 0, probe.stdout + probe.stderr)

        let status = try pair.run(
            in: pair.server, [TestPaths.binary("portctl").path, "status", "--format", "prometheus", "--state-dir", state])
        XCTAssertEqual(status.status, 0, status.stderr)
        let metrics = status.stdout
        XCTAssertGreaterThan(value(metrics, "portctl_opening_packets_total", ["port=\"554\"", "proto=\"tcp\""]) ?? 0, 0, metrics)
        XCTAssertGreaterThan(value(metrics, "portctl_opening_bytes_total", ["port=\"6970-6999\"", "proto=\"udp\""]) ?? 0, 0, metrics)
        XCTAssertEqual(value(metrics, "portctl_generation"), 1, metrics)
        XCTAssertEqual(value(metrics, "portctl_drift"), 0, metrics)
        XCTAssertEqual(value(metrics, "portctl_blocking_tables"), 0, metrics)
        XCTAssertEqual(value(metrics, "portctl_pending_confirmation"), 0, metrics)
        XCTAssertGreaterThan(value(metrics, "portctl_last_apply_timestamp_seconds") ?? 0, 1_700_000_000, metrics)
        let checked = try promtool(metrics)
        XCTAssertEqual(checked.status, 0, checked.stdout + checked.stderr)

        let scraped = try pair.run(in: pair.client, ["curl", "-sS", "--max-time", "5", "http://\(server):1220/metrics"])
        XCTAssertEqual(scraped.status, 0, scraped.stderr)
        let streamd = scraped.stdout
        XCTAssertGreaterThan(value(streamd, "streamd_connections_total", ["listener=\"554/tcp\"", "service=\"rtsp\""]) ?? 0, 0, streamd)
        XCTAssertGreaterThan(value(streamd, "streamd_sent_bytes_total", ["listener=\"554/tcp\""]) ?? 0, 0, streamd)
        XCTAssertGreaterThan(value(streamd, "streamd_sent_bytes_total", ["listener=\"udp\""]) ?? 0, 0, "knock replies: \(streamd)")
        XCTAssertGreaterThan(value(streamd, "streamd_knocks_answered_total", ["listener=\"6970-6999/udp\""]) ?? 0, 0, streamd)
        XCTAssertEqual(value(streamd, "streamd_bind_failures"), 0, streamd)
        XCTAssertEqual(value(streamd, "streamd_listener_up", ["listener=\"1220/tcp\""]), 1, streamd)
        let streamdChecked = try promtool(streamd)
        XCTAssertEqual(streamdChecked.status, 0, streamdChecked.stdout + streamdChecked.stderr)
    }
}
