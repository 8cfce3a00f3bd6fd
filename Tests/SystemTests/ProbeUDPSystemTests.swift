import Foundation
import TestSupport
import XCTest

/// UDP verdicts against the real kernel between two namespaces (issue 11): a host that
/// rate-limits its ICMP unreachables (item 7), and streamd's per-source rate limit on a wide
/// range probed whole (item 14).
final class ProbeUDPSystemTests: XCTestCase {
    let server = NamespacePair.serverAddress

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
    }

    func probe(_ pair: NamespacePair, _ arguments: [String], timeout: TimeInterval = 120) throws -> (
        status: Int32, results: [[String: Any]], seconds: Double
    ) {
        let started = Date()
        let result = try pair.run(
            in: pair.client, [TestPaths.binary("portctl").path, "probe", server] + arguments + ["--format", "json"], timeout: timeout)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] ?? [:]
        return (result.status, json["results"] as? [[String: Any]] ?? [], Date().timeIntervalSince(started))
    }

    /// Nothing listens on the server, and no firewall: every port of 6970-6999 is closed, but the
    /// kernel sends ICMP port unreachable to one destination in a burst of 6, then one a second.
    func testClosedUDPPortsOfAHostThatRateLimitsICMPAreNotReportedFiltered() throws {
        let pair = try NamespacePair()
        defer { pair.destroy() }
        let burst = 6
        let (status, results, seconds) = try probe(pair, ["--ports", "6970-6999/udp", "--timeout", "1s"])
        XCTAssertEqual(status, 1)
        XCTAssertEqual(results.count, 30)
        let verdicts = results.map { $0["verdict"] as? String ?? "" }
        XCTAssertEqual(verdicts.filter { $0 == "filtered" }.count, 0, "\(results.map { "\($0["port"] ?? 0) \($0["verdict"] ?? "")" })")
        let closed = verdicts.filter { $0 == "closed" }.count
        XCTAssertGreaterThan(closed, burst, "closed ports beyond the ICMP burst, found by the paced retries")
        for result in results where result["verdict"] as? String != "closed" {
            XCTAssertEqual(result["verdict"] as? String, "closed-or-filtered")
            XCTAssertEqual(
                result["detail"] as? String,
                "no reply; this host rate-limits ICMP (\(closed) of 30 closed), so it may be closed rather than filtered")
        }
        XCTAssertLessThan(seconds, 1 + 30 + 5, "within --timeout and the default --icmp-budget of 30 s")
        print("ICMP rate limit: \(closed) of 30 closed in \(String(format: "%.1f", seconds)) s")

        // No budget: no retries, and still not one port said filtered. A fresh pair: the first
        // probe's retries spent the server's ICMP allowance for this client.
        let fresh = try NamespacePair()
        defer { fresh.destroy() }
        let (_, quick, _) = try probe(fresh, ["--ports", "6970-6999/udp", "--timeout", "1s", "--icmp-budget", "0"])
        XCTAssertEqual(quick.filter { $0["verdict"] as? String == "filtered" }.count, 0)
        XCTAssertGreaterThan(quick.filter { $0["verdict"] as? String == "closed-or-filtered" }.count, 0)
    }

    /// 3,000 ports of the broadcast range probed whole against streamd: more than its burst of
    /// 2,000 knocks. Paced, every one is answered; streamd's rate limit decides no verdict.
    func testStreamdsRateLimitDecidesNoVerdictOfAWideRangeProbedWhole() throws {
        let served = try StreamdNamespaces(name: "udp-range")
        defer { served.destroy() }
        try served.startStreamd(["dss", "--broadcaster", NamespacePair.clientAddress])
        let (status, results, seconds) = try probe(
            served.pair, ["--ports", "10000-12999/udp", "--full", "--key", served.key, "--timeout", "1s"])
        XCTAssertEqual(results.count, 3000)
        let answered = results.filter { $0["detail"] as? String == "open (streamd)" }.count
        XCTAssertEqual(answered, 3000, "\(results.filter { $0["detail"] as? String != "open (streamd)" }.prefix(5))")
        XCTAssertEqual(status, 0)
        // Paced: a burst of 1,000, then 500 a second, so no faster than 4 s whatever the machine.
        XCTAssertGreaterThan(seconds, 3.9)
        print("streamd rate limit: \(answered) of 3000 answered in \(String(format: "%.1f", seconds)) s")
    }
}
