import XCTest

@testable import FirewallState
@testable import PortModel
@testable import PortPlanning

/// The advice as data: one per chain and finding, its ports each once, and the fix chosen by who
/// manages the table. Its words are portctl's (PortctlTests/AdviceTextTests).
final class BlockingAdviceTests: XCTestCase {
    func entry(_ spec: String, profile: String = "media") -> PlanEntry {
        let yaml = "name: \(profile)\ntitle: T\nsource: test\nopenings:\n  - id: o\n    purpose: p\n    ports: [\(spec)]\n"
        return Planner.plan(PlanRequest(profiles: [Fixtures.profile(yaml)])).entries[0]
    }

    func testReportsOfOneChainMakeOneAdviceWithEachPortOnce() {
        let rtsp = entry("554/tcp")
        let media = entry("6970-6999/udp", profile: "dss")
        let drop = BlockingVerdict.blocked(table: "inet custom", chain: "in", why: "policy drop")
        let advice = BlockingAnalyzer.advice(for: [
            BlockingReport(entry: rtsp, family: .ipv4, verdict: drop),
            BlockingReport(entry: media, family: nil, verdict: .blocked(table: "inet custom", chain: "in", why: "rule 9: drop")),
            BlockingReport(entry: rtsp, family: .ipv4, verdict: drop),
            BlockingReport(entry: rtsp, family: .ipv6, verdict: drop),
        ])
        XCTAssertEqual(advice.count, 1)
        XCTAssertEqual(advice[0].finding, .drops(why: "policy drop"), "the first report's reason")
        XCTAssertEqual(advice[0].ports.map(\.spec.description), ["554/tcp", "6970-6999/udp", "554/tcp"])
        XCTAssertEqual(advice[0].ports.map(\.family), [.ipv4, nil, .ipv6])
    }

    func testADropAndAMaybeInOneChainAreTwoAdvices() {
        let advice = BlockingAnalyzer.advice(for: [
            BlockingReport(entry: entry("554/tcp"), family: nil, verdict: .unknown(table: "ip filter", chain: "INPUT", rule: "rule 3: x")),
            BlockingReport(entry: entry("80/tcp"), family: nil, verdict: .blocked(table: "ip filter", chain: "INPUT", why: "policy drop")),
        ])
        XCTAssertEqual(advice.map(\.finding), [.mayDrop(rule: "rule 3: x"), .drops(why: "policy drop")])
    }

    func testTheFixNamesTheProfilesOnceInOrder() {
        let verdict = BlockingVerdict.blocked(table: "inet firewalld", chain: "filter_INPUT", why: "rule 12: reject")
        let advice = BlockingAnalyzer.advice(for: [
            BlockingReport(entry: entry("554/tcp", profile: "dss"), family: nil, verdict: verdict),
            BlockingReport(entry: entry("8000/tcp", profile: "icecast"), family: nil, verdict: verdict),
            BlockingReport(entry: entry("7070/tcp", profile: "dss"), family: nil, verdict: verdict),
        ])
        let attach = BlockingAdvice.AttachPoint(family: "inet", table: "firewalld", chain: "filter_INPUT")
        XCTAssertEqual(advice.map(\.fix), [.firewalldService(profiles: ["dss", "icecast"], attach: attach)])
    }

    func testTheFixFollowsWhoManagesTheTable() {
        func fix(_ table: String, _ chain: String) -> BlockingAdvice.Fix {
            BlockingAnalyzer.fix(table: table, chain: chain, profiles: ["dss"])
        }
        func point(_ family: String, _ table: String, _ chain: String) -> BlockingAdvice.AttachPoint {
            BlockingAdvice.AttachPoint(family: family, table: table, chain: chain)
        }
        XCTAssertEqual(
            fix("ip filter", "INPUT"), .iptablesRestore(family: .ipv4, profiles: ["dss"], attach: point("ip", "filter", "INPUT")))
        XCTAssertEqual(
            fix("ip6 filter", "INPUT"), .iptablesRestore(family: .ipv6, profiles: ["dss"], attach: point("ip6", "filter", "INPUT")))
        // iptables-nft's chain is INPUT in an ip or ip6 table; anything else is someone's own.
        XCTAssertEqual(fix("inet filter", "INPUT"), .attach(point("inet", "filter", "INPUT")))
        XCTAssertEqual(fix("ip filter", "input"), .attach(point("ip", "filter", "input")))
        XCTAssertEqual(
            fix("inet firewalld", "filter_INPUT"), .firewalldService(profiles: ["dss"], attach: point("inet", "firewalld", "filter_INPUT")))
        XCTAssertEqual(fix("ip DOCKER-USER", "input"), .dockerConfiguration)
        XCTAssertEqual(fix("odd", "in"), .attach(point("odd", "", "in")), "a table named without its family")
    }
}
