import XCTest

@testable import FirewallState
@testable import PortModel
@testable import PortPlanning

/// `status --format prometheus` as text: names, types, labels, escaping, and what is left out.
final class StatusMetricsTests: XCTestCase {
    func entry(_ ports: String, _ transport: Transport, labels: [(String, String)]) throws -> PlanEntry {
        let range = try PortRange(parsing: ports)
        return PlanEntry(
            transport: transport, range: range, scope: .world, direction: .in,
            contributions: labels.map {
                Contribution(profile: $0.0, opening: $0.1, purpose: "", service: .rtsp, direction: .in, spec: PortSpec(range, transport))
            })
    }

    func report(rows: [StatusReport.Row], drift: StatusReport.Drift?, pending: Bool) -> StatusReport {
        let meta = StateStore.Meta(
            generation: 4, time: "2026-12-01T21:00:00Z", placement: "inet portctl", profiles: ["dss"], options: [], command: [],
            forced: false,
            persist: false, previous: 3, fingerprint: "")
        return StatusReport(
            generation: 4, meta: meta,
            pending: pending ? StateStore.Pending(generation: 4, restore: 3, deadline: 0, token: "t", watchdog: 1) : nil,
            persisted: false, drift: drift, rows: rows, advice: [])
    }

    func testCountersGaugesAndLabels() throws {
        let rtsp = try entry("554", .tcp, labels: [("dss", "rtsp"), ("my\"odd\\name", "x")])
        let media = try entry("6970-6999", .udp, labels: [("dss", "media")])
        let blocked = BlockingReport(
            entry: rtsp, family: nil, verdict: .blocked(table: "inet firewalld", chain: "filter_INPUT", why: "policy drop"))
        let text = StatusMetrics.render(
            report(
                rows: [
                    StatusReport.Row(entry: rtsp, packets: 12, bytes: 3400, verdicts: [blocked]),
                    StatusReport.Row(entry: media, packets: nil, bytes: nil, verdicts: []),
                ], drift: StatusReport.Drift(added: [], missing: []), pending: true),
            extra: .init(configDrift: true))
        XCTAssertTrue(
            text.contains(
                #"portctl_opening_packets_total{profile="dss,my\"odd\\name",opening="dss/rtsp,my\"odd\\name/x",proto="tcp",port="554",from="world"} 12"#
            ), text)
        XCTAssertTrue(text.contains("# TYPE portctl_opening_bytes_total counter\n"), text)
        XCTAssertFalse(text.contains("port=\"6970-6999\""), "an element without a counter has no sample")
        XCTAssertTrue(text.contains("\nportctl_generation 4\n"), text)
        XCTAssertTrue(text.contains("\nportctl_drift 0\n"), text)
        XCTAssertTrue(text.contains("\nportctl_config_drift 1\n"), text)
        XCTAssertTrue(text.contains("\nportctl_blocking_tables 1\n"), text)
        XCTAssertTrue(text.contains("\nportctl_pending_confirmation 1\n"), text)
        XCTAssertTrue(text.contains("\nportctl_last_apply_timestamp_seconds 1796158800\n"), text)
        // Every family has HELP and TYPE, and every line is a comment or a sample.
        for line in text.split(separator: "\n") {
            XCTAssertTrue(
                line.hasPrefix("# HELP portctl_") || line.hasPrefix("# TYPE portctl_") || line.hasPrefix("portctl_"), String(line))
        }
    }

    func testUnknownDriftAndNoConfigurationLeaveThoseMetricsWithoutSamples() {
        let text = StatusMetrics.render(report(rows: [], drift: nil, pending: false))
        XCTAssertTrue(text.contains("# TYPE portctl_drift gauge\n# HELP portctl_config_drift"), text)
        XCTAssertFalse(text.contains("\nportctl_drift "), text)
        XCTAssertFalse(text.contains("\nportctl_config_drift "), text)
        XCTAssertTrue(text.contains("\nportctl_pending_confirmation 0\n"), text)
    }
}
