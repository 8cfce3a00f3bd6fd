import XCTest

@testable import CommandSupport
@testable import FirewallState
@testable import HostInspection
@testable import KnockAuth
@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProbe
@testable import PortProfiles
@testable import StreamWire

final class RulesetTests: XCTestCase {
    func fullDSS(ssh: [PortNumber] = [PortNumber.ssh]) -> Plan {
        Planner.plan(
            PlanRequest(
                profiles: [Fixtures.bundled("dss")], options: ["port80"],
                sourceSets: [
                    "admins": [Fixtures.cidr("192.0.2.0/24"), Fixtures.cidr("2001:db8::/32")],
                    "broadcasters": [Fixtures.cidr("198.51.100.7"), Fixtures.cidr("2001:db8:1::/48")],
                ], sshPorts: ssh))
    }

    func testFullDSSPlanFitsInTwelveRules() {
        let ruleset = RulesetBuilder.standalone(fullDSS())
        XCTAssertLessThanOrEqual(ruleset.ruleCount, 12)
        XCTAssertEqual(ruleset.ruleCount, 11)
        // Every option and both families: baseline 6, everyone 1, admins 2, broadcasters 2.
        let worldOnly = RulesetBuilder.standalone(
            Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], options: ["port80"], world: true)))
        XCTAssertEqual(worldOnly.ruleCount, 7)
    }

    func testRuleCountDoesNotGrowWithPorts() {
        let many = Fixtures.profile(
            """
            name: many
            title: Many
            source: test
            openings:
            \((0..<200).map { "  - id: p\($0)\n    purpose: port \($0)\n    ports: [\(20000 + $0 * 3)/tcp]\n" }.joined())
            """)
        let ruleset = RulesetBuilder.standalone(Planner.plan(PlanRequest(profiles: [many])))
        XCTAssertEqual(ruleset.ruleCount, 7)
        XCTAssertEqual(ruleset.sets.first { $0.name == "world_ports" }?.elements.count, 200)
    }

    func testBaselineIsComplete() {
        let text = NftTextRenderer.body(RulesetBuilder.standalone(fullDSS()))
        XCTAssertTrue(text.contains("type filter hook input priority filter; policy drop;"))
        XCTAssertTrue(text.contains("ct state established,related accept"))
        XCTAssertTrue(text.contains("ct state invalid drop"))
        XCTAssertTrue(text.contains("iif \"lo\" accept"))
        XCTAssertTrue(text.contains("tcp dport 22 counter accept comment \"portctl ssh guard\""))
        for type in ["nd-neighbor-solicit", "nd-neighbor-advert", "nd-router-advert", "packet-too-big", "echo-request"] {
            XCTAssertTrue(text.contains(type), type)
        }
    }

    func testSSHGuardCanBeMovedOrDropped() {
        let moved = NftTextRenderer.body(RulesetBuilder.standalone(fullDSS(ssh: [try! PortNumber(22), try! PortNumber(2222)])))
        XCTAssertTrue(moved.contains("tcp dport { 22, 2222 } counter accept"))
        let none = NftTextRenderer.body(RulesetBuilder.standalone(fullDSS(ssh: [])))
        XCTAssertFalse(none.contains("ssh guard"))
    }

    func testEveryElementNamesItsOpening() {
        let ruleset = RulesetBuilder.standalone(fullDSS())
        let world = ruleset.sets.first { $0.name == "world_ports" }!
        XCTAssertEqual(world.elements.map { $0.1?.text }, ["dss/rtsp-http", "dss/rtsp", "dss/rtsp", "dss/mp3", "dss/media"])
        XCTAssertTrue(world.counter)
    }

    func testCommentsCannotCarryNftSyntax() {
        let comment = NftComment("x\" ; flush ruleset ; \n add table ip evil { }\\ \u{7F} é")
        XCTAssertFalse(comment.text.contains("\""))
        XCTAssertFalse(comment.text.contains("\n"))
        XCTAssertFalse(comment.text.contains("\\"))
        XCTAssertTrue(comment.text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F })
        XCTAssertLessThanOrEqual(NftComment(String(repeating: "a", count: 500)).text.utf8.count, NftComment.maxLength)
    }

    func testJSONAndTextDescribeTheSameSets() throws {
        let ruleset = RulesetBuilder.standalone(fullDSS())
        let json = NftJSONRenderer.render(ruleset).compact
        let text = NftTextRenderer.render(ruleset)
        for set in ruleset.sets {
            XCTAssertTrue(json.contains("\"name\":\"\(set.name)\""), set.name)
            XCTAssertTrue(text.contains("set \(set.name) {"), set.name)
        }
        XCTAssertTrue(
            json.hasPrefix(
                #"{"nftables":[{"metainfo":{"json_schema_version":1}},{"add":{"table":{"family":"inet","name":"portctl"}}},{"delete":{"table":{"family":"inet","name":"portctl"}}}"#
            ))
        XCTAssertEqual(json.components(separatedBy: "{\"add\":{\"rule\"").count - 1, ruleset.ruleCount)
    }
}
