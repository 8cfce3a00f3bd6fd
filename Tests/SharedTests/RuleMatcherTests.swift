import XCTest

@testable import FirewallState
@testable import PortModel
@testable import PortPlanning

/// One rule against one packet, without a chain around it: the three-valued logic, what a match
/// reads from the packet, and the alternatives a rule's statements give.
final class RuleMatcherTests: XCTestCase {
    typealias Tri = BlockingAnalyzer.Tri

    func matcher(
        port: Int = 554, transport: Transport = .tcp, family: IPFamily = .ipv4, scope: Scope = .world, listing: String? = nil
    ) throws -> BlockingAnalyzer.RuleMatcher {
        let live = try listing.map { try LiveRuleset(json: $0) } ?? LiveRuleset()
        let table = BlockingAnalyzer.TableContext(live, family: "inet", name: "admin", ownChain: nil)
        let packet = BlockingAnalyzer.Packet(family: family, transport: transport, port: port, scope: scope)
        return BlockingAnalyzer.RuleMatcher(table: table, packet: packet)
    }

    /// `{"match": {"op": op, "left": left, "right": right}}`'s body, from JSON text.
    func match(_ left: String, _ right: String, op: String = "==") throws -> JSONValue {
        try JSONValue.parse(#"{"op": "\#(op)", "left": \#(left), "right": \#(right)}"#)
    }

    /// `yes accept`, `maybe drop reject`: each alternative's condition and action.
    func alternatives(_ matcher: BlockingAnalyzer.RuleMatcher, _ statements: String) throws -> [String] {
        let rule = try LiveRuleset(
            json: #"{"nftables": [{"rule": {"family": "inet", "table": "admin", "chain": "input", "expr": \#(statements)}}]}"#
        ).rules[0]
        return matcher.alternatives(rule).map { condition, action in
            let name: String
            switch action {
            case .none: name = "none"
            case .accept: name = "accept"
            case .drop(let kind): name = "drop \(kind)"
            case .jump(let target): name = "jump \(target)"
            case .goto(let target): name = "goto \(target)"
            case .return: name = "return"
            case .unknown: name = "unknown"
            }
            return "\(condition) \(name)"
        }
    }

    func testThreeValuedLogic() {
        let all: [Tri] = [.yes, .no, .maybe]
        for value in all {
            XCTAssertEqual(value.and(.no), .no)
            XCTAssertEqual(value.or(.yes), .yes)
            XCTAssertEqual(value.and(.yes), value)
            XCTAssertEqual(value.or(.no), value)
            XCTAssertEqual(value.negated.negated, value)
        }
        XCTAssertEqual(Tri.maybe.and(.maybe), .maybe)
        XCTAssertEqual(Tri.maybe.or(.maybe), .maybe)
        XCTAssertEqual(Tri.maybe.negated, .maybe)
        XCTAssertEqual(Tri(true), .yes)
        XCTAssertEqual(Tri(false), .no)
    }

    func testPortsProtocolsAndHeadersThePacketHasOrNot() throws {
        let tcp554 = try matcher()
        let tcpDport = #"{"payload": {"protocol": "tcp", "field": "dport"}}"#
        XCTAssertEqual(tcp554.match(try match(tcpDport, "554")), .yes)
        XCTAssertEqual(tcp554.match(try match(tcpDport, "80")), .no)
        XCTAssertEqual(tcp554.match(try match(tcpDport, "80", op: "!=")), .yes)
        XCTAssertEqual(tcp554.match(try match(tcpDport, #"{"range": [500, 600]}"#)), .yes)
        XCTAssertEqual(tcp554.match(try match(tcpDport, #"{"set": [22, 554]}"#)), .yes)
        XCTAssertEqual(tcp554.match(try match(tcpDport, "1024", op: "<")), .yes)
        XCTAssertEqual(tcp554.match(try match(#"{"meta": {"key": "l4proto"}}"#, #""udp""#)), .no)
        // A UDP packet has no TCP header: a tcp field never matches it, even negated.
        let udp = try matcher(transport: .udp)
        XCTAssertEqual(udp.match(try match(tcpDport, "80", op: "!=")), .no)
        XCTAssertEqual(udp.match(try match(#"{"payload": {"protocol": "th", "field": "dport"}}"#, "554")), .yes)
        XCTAssertEqual(
            try matcher(family: .ipv6).match(try match(#"{"payload": {"protocol": "ip", "field": "saddr"}}"#, #""10.0.0.1""#)), .no)
    }

    func testConntrackInterfacesAndWhatPortctlCannotKnow() throws {
        let world = try matcher()
        let loopback = try matcher(scope: .loopback)
        let state = #"{"ct": {"key": "state"}}"#
        let iifname = #"{"meta": {"key": "iifname"}}"#
        XCTAssertEqual(world.match(try match(state, #""new""#)), .yes)
        XCTAssertEqual(world.match(try match(state, #"{"set": ["established", "related"]}"#)), .no)
        XCTAssertEqual(world.match(try match(iifname, #""lo""#)), .no)
        XCTAssertEqual(world.match(try match(iifname, #""eth*""#)), .maybe)
        XCTAssertEqual(loopback.match(try match(iifname, #""lo""#)), .yes)
        XCTAssertEqual(loopback.match(try match(iifname, #""eth*""#)), .no)
        XCTAssertEqual(world.match(try match(#"{"meta": {"key": "mark"}}"#, "1")), .maybe)
    }

    func testSourcesAreExactOnlyForASourceSet() throws {
        let saddr = #"{"payload": {"protocol": "ip", "field": "saddr"}}"#
        let prefix = #"{"prefix": {"addr": "192.0.2.0", "len": 24}}"#
        XCTAssertEqual(try matcher().match(try match(saddr, prefix)), .maybe)
        let inside = try matcher(scope: .addresses(set: "admins", cidrs: [Fixtures.cidr("192.0.2.128/25")]))
        XCTAssertEqual(inside.match(try match(saddr, prefix)), .yes)
        let outside = try matcher(scope: .addresses(set: "admins", cidrs: [Fixtures.cidr("198.51.100.0/24")]))
        XCTAssertEqual(outside.match(try match(saddr, prefix)), .no)
        let wider = try matcher(scope: .addresses(set: "admins", cidrs: [Fixtures.cidr("192.0.0.0/16")]))
        XCTAssertEqual(wider.match(try match(saddr, prefix)), .maybe)
    }

    func testARulesStatementsGiveItsAlternatives() throws {
        let tcp554 = try matcher()
        let dport554 = #"{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}"#
        XCTAssertEqual(try alternatives(tcp554, #"[\#(dport554), {"counter": null}, {"accept": null}]"#), ["yes accept"])
        XCTAssertEqual(
            try alternatives(tcp554, #"[{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "udp"}}, {"drop": null}]"#),
            [])
        XCTAssertEqual(try alternatives(tcp554, #"[{"limit": {"rate": 5}}, {"reject": null}]"#), ["maybe drop reject"])
        XCTAssertEqual(
            try alternatives(tcp554, #"[{"xt": {"type": "target", "name": "LOG"}}, {"jump": {"target": "zones"}}]"#), ["yes jump zones"])
        XCTAssertEqual(try alternatives(tcp554, #"[{"xt": {"type": "target", "name": "NFQUEUE"}}]"#), ["yes unknown"])
        XCTAssertEqual(try alternatives(tcp554, #"[{"queue": {"num": 1}}]"#), ["maybe unknown"])
        XCTAssertEqual(try alternatives(tcp554, #"[{"xt": {"type": "match", "name": "comment"}}, {"return": null}]"#), ["yes return"])
        XCTAssertEqual(try alternatives(tcp554, #"[\#(dport554)]"#), ["yes none"])
    }

    func testAVerdictMapGivesOneAlternativePerElementThatMayMatch() throws {
        let vmap = #"""
            [{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}},
              "data": {"set": [[25, {"drop": null}], [{"range": [500, 600]}, {"goto": {"target": "media"}}], [554, {"accept": null}]]}}}]
            """#
        XCTAssertEqual(try alternatives(try matcher(), vmap), ["yes goto media", "yes accept"])
        XCTAssertEqual(try alternatives(try matcher(port: 25), vmap), ["yes drop drop"])
        XCTAssertEqual(try alternatives(try matcher(transport: .udp), vmap), [], "a tcp key on a UDP packet")
    }
}
