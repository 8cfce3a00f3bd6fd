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

final class PlannerTests: XCTestCase {
    let two = Fixtures.profile(
        """
        name: two
        title: Two
        source: test
        options:
          extra: more ports
        openings:
          - id: a
            purpose: first
            ports: [100-110/tcp, 500/udp]
          - id: b
            purpose: adjacent to a
            ports: [111-120/tcp]
          - id: c
            purpose: admin
            ports: [9000/tcp]
            from: admins
          - id: d
            purpose: pushed
            ports: [20000-30000/udp]
            from: broadcasters
          - id: e
            purpose: optional
            ports: [7000/tcp]
            when: extra
        """)

    func testAdjacentRangesMergeAndKeepProvenance() {
        let plan = Planner.plan(PlanRequest(profiles: [two]))
        let merged = plan.entries.first { $0.transport == .tcp && $0.scope == .world }!
        XCTAssertEqual(merged.range.description, "100-120")
        XCTAssertEqual(merged.labels, ["two/a", "two/b"])
        XCTAssertEqual(merged.contributions.map(\.spec.description), ["100-110/tcp", "111-120/tcp"])
    }

    func testOverlapsAcrossProfilesMergeAndBothProfilesAreNamed() {
        let dss = Fixtures.bundled("dss")
        let rtsp = Fixtures.bundled("rtsp")
        let pna = Fixtures.bundled("pna")
        let plan = Planner.plan(PlanRequest(profiles: [dss, rtsp, pna]))
        let rtspEntry = plan.entries.first { $0.transport == .tcp && $0.range.low.value == 554 }!
        XCTAssertEqual(rtspEntry.labels, ["dss/rtsp", "rtsp/rtsp"])
        let pnaEntry = plan.entries.first { $0.transport == .tcp && $0.range.low.value == 7070 }!
        XCTAssertEqual(pnaEntry.labels, ["dss/rtsp", "pna/pna"])
        XCTAssertEqual(plan.entries.filter { $0.range.low.value == 554 }.count, 2, "554/tcp and 554/udp stay apart")
    }

    func testMergingKeepsTransportsAndScopesApart() {
        let plan = Planner.plan(PlanRequest(profiles: [two], sourceSets: ["admins": [Fixtures.cidr("192.0.2.0/24")]]))
        XCTAssertEqual(
            plan.entries.map { "\($0.spec) \($0.scope.name)" },
            [
                "100-120/tcp world", "500/udp world", "9000/tcp admins",
            ])
    }

    func testAdminPortsDefaultToLoopbackAndBroadcastStaysClosed() {
        let plan = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")]))
        let admin = plan.entries.first { $0.range.low.value == 1220 }!
        XCTAssertEqual(admin.scope, .loopback)
        XCTAssertNil(plan.entries.first { $0.range.low.value == 10000 })
        XCTAssertEqual(plan.closed.map { "\($0.profile)/\($0.opening)" }, ["dss/broadcast"])
        XCTAssertTrue(plan.warnings.contains { $0.code == .adminLoopback && $0.message.contains("--admin-from") })
        XCTAssertTrue(plan.warnings.contains { $0.code == .setClosed && $0.message.contains("--broadcaster") })
    }

    func testDeclaredSourcesScopeTheirOpenings() {
        let request = PlanRequest(
            profiles: [Fixtures.bundled("dss")],
            sourceSets: ["admins": [Fixtures.cidr("192.0.2.0/24")], "broadcasters": [Fixtures.cidr("198.51.100.7")]])
        let plan = Planner.plan(request)
        XCTAssertEqual(
            plan.entries.first { $0.range.low.value == 1220 }!.scope, .addresses(set: "admins", cidrs: [Fixtures.cidr("192.0.2.0/24")]))
        XCTAssertEqual(plan.entries.first { $0.range.low.value == 10000 }!.scope.name, "broadcasters")
        XCTAssertTrue(plan.closed.isEmpty)
        XCTAssertFalse(plan.warnings.contains { $0.code == .adminLoopback || $0.code == .setClosed })
    }

    func testWorldOpensEverythingAndSaysSo() {
        let plan = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], world: true))
        XCTAssertEqual(plan.entries.first { $0.range.low.value == 10000 }!.scope, .world)
        XCTAssertTrue(plan.warnings.contains { $0.code == .wideRangeWorld && $0.message.contains("10000-65535/udp") })
        XCTAssertTrue(plan.warnings.contains { $0.code == .adminWorld && $0.message.contains("1220/tcp") })
    }

    func testOptionsTurnOpeningsOn() {
        XCTAssertNil(Planner.plan(PlanRequest(profiles: [two])).entries.first { $0.range.low.value == 7000 })
        let plan = Planner.plan(PlanRequest(profiles: [two], options: ["extra"]))
        XCTAssertNotNil(plan.entries.first { $0.range.low.value == 7000 })
    }

    func testPort80EarnsAWarning() {
        let plain = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")]))
        XCTAssertFalse(plain.warnings.contains { $0.code == .port80 })
        let port80 = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], options: ["port80"]))
        XCTAssertTrue(port80.warnings.contains { $0.code == .port80 && $0.message.contains("dss/rtsp-http") })
    }

    func testSourceSetsAreNormalized() {
        let cidrs = ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.7", "10.0.0.0/8"].map(Fixtures.cidr)
        XCTAssertEqual(Planner.normalize(cidrs).map(\.description), ["10.0.0.0/8", "192.0.2.7"])
    }

    func testUnusedSourceSetWarns() {
        let plan = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("rtmp")], sourceSets: ["admins": [Fixtures.cidr("192.0.2.1")]]))
        XCTAssertTrue(plan.warnings.contains { $0.code == .unusedSourceSet })
    }

    func testOutboundOnlyOpeningsNeedNoRule() {
        let out = Fixtures.profile(
            """
            name: out
            title: Out
            source: test
            openings:
              - id: push
                purpose: server pushes
                ports: [5000/udp]
                direction: out
            """)
        let plan = Planner.plan(PlanRequest(profiles: [out]))
        XCTAssertEqual(plan.entries.count, 1)
        XCTAssertTrue(plan.inboundEntries.isEmpty)
        XCTAssertFalse(NftTextRenderer.render(RulesetBuilder.standalone(plan)).contains("5000"))
    }

    func testPlansAreDeterministic() {
        let request = PlanRequest(profiles: [Fixtures.bundled("dss"), Fixtures.bundled("rtmp")], options: ["port80", "tls"])
        XCTAssertEqual(PlanJSON.render(Planner.plan(request)).compact, PlanJSON.render(Planner.plan(request)).compact)
    }
}
