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

final class LiveRulesetTests: XCTestCase {
    func testJSONParsingKeepsTypes() throws {
        let value = try JSONValue.parse(#"[true, 1, 0, false, "x", null, {"b": 2, "a": [1]}]"#)
        XCTAssertEqual(value.compact, #"[true,1,0,false,"x",null,{"a":[1],"b":2}]"#)
    }

    func testParsesAListing() throws {
        let listing = #"""
            {"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
              {"table": {"family": "inet", "name": "portctl", "handle": 1}},
              {"set": {"family": "inet", "name": "world_ports", "table": "portctl", "type": ["inet_proto", "inet_service"], "handle": 2, "flags": ["interval"],
                "elem": [{"elem": {"val": {"concat": ["tcp", 554]}, "comment": "dss/rtsp", "counter": {"packets": 3, "bytes": 180}}}]}},
              {"chain": {"family": "inet", "table": "portctl", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}},
              {"rule": {"family": "inet", "table": "portctl", "chain": "input", "handle": 5, "comment": "x",
                "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}]}
            """#
        let live = try LiveRuleset(json: listing)
        XCTAssertEqual(live.tables.map(\.id), ["inet portctl"])
        let chain = try XCTUnwrap(live.chain(family: "inet", table: "portctl", name: "input"))
        XCTAssertEqual(chain.policy, "drop")
        XCTAssertEqual(chain.hook, "input")
        XCTAssertEqual(live.rules(in: chain).first?.handle, 5)
        XCTAssertEqual(live.rules(in: chain).first?.expr.last?.soleKey, "accept")
        XCTAssertEqual(live.set(family: "inet", table: "portctl", name: "world_ports")?.elements.count, 1)
    }
}
