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

final class BlockingAnalyzerTests: XCTestCase {
    /// A profile with one opening per port spec; `from` picks the source set of every opening.
    func plan(_ specs: [String], from: String = "world", sourceSets: [String: [CIDR]] = [:]) -> Plan {
        let openings = specs.enumerated().map { index, spec in
            "  - id: o\(index)\n    purpose: opening \(index)\n    ports: [\(spec)]\n    from: \(from)\n"
        }
        let profile = Fixtures.profile("name: media\ntitle: Media\nsource: test\nopenings:\n\(openings.joined())")
        return Planner.plan(PlanRequest(profiles: [profile], sourceSets: sourceSets))
    }

    /// The advice's name for the plan's `index`th entry, for one family or both.
    func ports(_ plan: Plan, _ index: Int, _ family: IPFamily? = nil) -> BlockingAdvice.Ports {
        BlockingAdvice.Ports(spec: plan.entries[index].spec, family: family)
    }

    /// `554/tcp: open`, or `7070/tcp ipv4: blocked by ...` when the families differ.
    func verdicts(
        _ listing: String, _ plan: Plan, ownTable: (family: String, name: String)? = ("inet", "portctl"),
        ownChain: (family: String, table: String, chain: String)? = nil
    ) throws -> [String] {
        let live = try LiveRuleset(json: listing)
        return BlockingAnalyzer.analyze(live, entries: plan.entries, ownTable: ownTable, ownChain: ownChain).map {
            "\($0.entry.spec)\($0.family.map { " \($0.rawValue)" } ?? ""): \($0.verdict)"
        }
    }

    func testNoOtherTablesLeavesEverythingOpen() throws {
        let plan = self.plan(["554/tcp", "6970-6999/udp"])
        XCTAssertEqual(try verdicts(Listings.empty, plan), ["554/tcp: open", "6970-6999/udp: open"])
        XCTAssertEqual(BlockingAnalyzer.advice(for: BlockingAnalyzer.analyze(LiveRuleset(), entries: plan.entries, ownTable: nil)), [])
    }

    func testIptablesPolicyDropBlocksWhatItDoesNotAccept() throws {
        let plan = self.plan(["554/tcp", "7070/tcp", "80/tcp", "6970-6999/udp", "8000/tcp"])
        XCTAssertEqual(
            try verdicts(Listings.iptables, plan),
            [
                "80/tcp ipv4: blocked by ip filter/INPUT (rule 5: reject)",
                "80/tcp ipv6: open",
                "554/tcp: open",
                // Accepted only from 192.0.2.0/24: not open for everyone.
                "7070/tcp ipv4: blocked by ip filter/INPUT (policy drop)",
                "7070/tcp ipv6: open",
                // `-m multiport` hides its ports: its accept cannot be counted on.
                "8000/tcp ipv4: blocked by ip filter/INPUT (policy drop)",
                "8000/tcp ipv6: open",
                // `-m comment` always matches.
                "6970-6999/udp: open",
            ])
    }

    func testSourceLimitedAcceptIsExactForSourceSets() throws {
        let inside = plan(["7070/tcp"], from: "admins", sourceSets: ["admins": [Fixtures.cidr("192.0.2.0/25")]])
        XCTAssertEqual(try verdicts(Listings.iptables, inside), ["7070/tcp: open"])
        let outside = plan(["7070/tcp"], from: "admins", sourceSets: ["admins": [Fixtures.cidr("198.51.100.0/24")]])
        XCTAssertEqual(try verdicts(Listings.iptables, outside), ["7070/tcp: blocked by ip filter/INPUT (policy drop)"])
        let wider = plan(["7070/tcp"], from: "admins", sourceSets: ["admins": [Fixtures.cidr("192.0.0.0/16")]])
        XCTAssertEqual(try verdicts(Listings.iptables, wider), ["7070/tcp: blocked by ip filter/INPUT (policy drop)"])
        // IPv6 members only: the ip table does not see them.
        let v6 = plan(["7070/tcp"], from: "admins", sourceSets: ["admins": [Fixtures.cidr("2001:db8::/32")]])
        XCTAssertEqual(try verdicts(Listings.iptables, v6), ["7070/tcp: open"])
    }

    func testAMaybeDropIsUnknownUnlessEveryPathDrops() throws {
        let world = plan(["554/tcp", "7070/tcp"])
        XCTAssertEqual(
            try verdicts(Listings.saddrdrop, world),
            [
                "554/tcp ipv4: unknown (ip filter/INPUT: rule 2: ip saddr 203.0.113.0/24 drop)",
                "554/tcp ipv6: open",
                "7070/tcp ipv4: blocked by ip filter/INPUT (policy drop)",
                "7070/tcp ipv6: open",
            ])
        let elsewhere = plan(["554/tcp"], from: "admins", sourceSets: ["admins": [Fixtures.cidr("198.51.100.0/24")]])
        XCTAssertEqual(try verdicts(Listings.saddrdrop, elsewhere), ["554/tcp: open"])
        let there = plan(["554/tcp"], from: "admins", sourceSets: ["admins": [Fixtures.cidr("203.0.113.64/26")]])
        XCTAssertEqual(try verdicts(Listings.saddrdrop, there), ["554/tcp: blocked by ip filter/INPUT (rule 2: drop)"])
    }

    func testFirewalldZoneChainsEndInReject() throws {
        let plan = self.plan(["554/tcp", "7070/tcp", "6970-6999/udp"])
        XCTAssertEqual(
            try verdicts(Listings.firewalld, plan),
            [
                "554/tcp: open",
                "7070/tcp: blocked by inet firewalld/filter_INPUT (rule 12: reject)",
                "6970-6999/udp: blocked by inet firewalld/filter_INPUT (rule 12: reject)",
            ])
        let reports = BlockingAnalyzer.analyze(
            try LiveRuleset(json: Listings.firewalld), entries: plan.entries, ownTable: ("inet", "portctl"))
        XCTAssertEqual(
            BlockingAnalyzer.advice(for: reports),
            [
                BlockingAdvice(
                    table: "inet firewalld", chain: "filter_INPUT", finding: .drops(why: "rule 12: reject"),
                    ports: [ports(plan, 1), ports(plan, 2)],
                    fix: .firewalldService(profiles: ["media"], attach: .init(family: "inet", table: "firewalld", chain: "filter_INPUT")))
            ])
    }

    func testUnevaluableMatchIsUnknown() throws {
        let plan = self.plan(["554/tcp"])
        let result = try verdicts(Listings.mark, plan)
        XCTAssertEqual(result, ["554/tcp: unknown (inet admin/input: rule 2: meta mark 1 drop)"])
        XCTAssertEqual(try verdicts(Listings.fib, plan), ["554/tcp: unknown (inet admin/input: rule 2: fib daddr type != local drop)"])
        let reports = BlockingAnalyzer.analyze(try LiveRuleset(json: Listings.mark), entries: plan.entries, ownTable: nil)
        XCTAssertEqual(
            BlockingAnalyzer.advice(for: reports),
            [
                BlockingAdvice(
                    table: "inet admin", chain: "input", finding: .mayDrop(rule: "rule 2: meta mark 1 drop"), ports: [ports(plan, 0)],
                    fix: .attach(.init(family: "inet", table: "admin", chain: "input")))
            ])
    }

    func testOwnTableIsSkipped() throws {
        let plan = self.plan(["554/tcp"])
        XCTAssertEqual(try verdicts(Listings.own, plan), ["554/tcp: open"])
        XCTAssertEqual(try verdicts(Listings.own, plan, ownTable: nil), ["554/tcp: blocked by inet portctl/input (policy drop)"])
    }

    func testNamedSetsOfPortsAndConcatenations() throws {
        let plan = self.plan(["443/tcp", "8050-8200/tcp", "554/tcp", "554/udp", "6990-7010/udp"])
        XCTAssertEqual(
            try verdicts(Listings.sets, plan),
            [
                "443/tcp: open",
                "554/tcp: open",
                "8050-8200/tcp: blocked by inet admin/input (policy drop for ports 8100-8200)",
                "554/udp: blocked by inet admin/input (policy drop)",
                "6990-7010/udp: blocked by inet admin/input (policy drop for ports 7000-7010)",
            ])
    }

    func testAttachModeCountsTheJumpToPortctlsChainAsAccept() throws {
        let plan = self.plan(["554/tcp", "7070/tcp"])
        XCTAssertEqual(
            try verdicts(Listings.attach, plan, ownTable: nil, ownChain: ("inet", "filter", "portctl")),
            [
                "554/tcp: open", "7070/tcp: open",
            ])
        // Without it the chain is read like any other: it accepts 554 only.
        XCTAssertEqual(
            try verdicts(Listings.attach, plan, ownTable: nil),
            [
                "554/tcp: open", "7070/tcp: blocked by inet filter/input (policy drop)",
            ])
    }

    func testVerdictMapsInterfacesComparisonsAndLoopback() throws {
        let world = plan(["110/tcp", "25/tcp", "1500/tcp", "3000/tcp", "80/tcp", "80/udp"])
        XCTAssertEqual(
            try verdicts(Listings.features, world),
            [
                "25/tcp: blocked by inet admin/input (rule 5: drop)",
                "80/tcp: blocked by inet admin/input (rule 8: drop)",
                "110/tcp: open",
                #"1500/tcp: unknown (inet admin/input: rule 6: tcp dport 1000-2000 iifname "eth*" drop)"#,
                "3000/tcp: open",
                "80/udp: open",
            ])
        // Admin ports default to loopback: `iif lo accept` lets them in.
        let loopback = plan(["1500/tcp", "80/tcp"], from: "admins")
        XCTAssertEqual(loopback.entries.map(\.scope), [.loopback, .loopback])
        XCTAssertEqual(try verdicts(Listings.features, loopback), ["80/tcp: open", "1500/tcp: open"])
    }

    func testIPv4AndIPv6TablesGiveOneReportPerFamilyWhenTheyDiffer() throws {
        let plan = self.plan(["554/tcp", "7070/tcp", "80/tcp"])
        XCTAssertEqual(
            try verdicts(Listings.both, plan),
            [
                "80/tcp ipv4: blocked by ip filter/INPUT (policy drop)",
                "80/tcp ipv6: blocked by ip6 filter/INPUT (policy drop)",
                "554/tcp: open",
                "7070/tcp ipv4: blocked by ip filter/INPUT (policy drop)",
                "7070/tcp ipv6: open",
            ])
        let reports = BlockingAnalyzer.analyze(try LiveRuleset(json: Listings.both), entries: plan.entries, ownTable: nil)
        XCTAssertEqual(
            BlockingAnalyzer.advice(for: reports),
            [
                BlockingAdvice(
                    table: "ip filter", chain: "INPUT", finding: .drops(why: "policy drop"),
                    ports: [ports(plan, 0, .ipv4), ports(plan, 2, .ipv4)],
                    fix: .iptablesRestore(family: .ipv4, profiles: ["media"], attach: .init(family: "ip", table: "filter", chain: "INPUT"))),
                BlockingAdvice(
                    table: "ip6 filter", chain: "INPUT", finding: .drops(why: "policy drop"), ports: [ports(plan, 0, .ipv6)],
                    fix: .iptablesRestore(family: .ipv6, profiles: ["media"], attach: .init(family: "ip6", table: "filter", chain: "INPUT"))
                ),
            ])
    }

    func testAdviceForDockerAndOtherTables() {
        let entry = plan(["554/tcp"]).entries[0]
        let advice = BlockingAnalyzer.advice(for: [
            BlockingReport(entry: entry, family: nil, verdict: .blocked(table: "ip docker-bridges", chain: "input", why: "policy drop")),
            BlockingReport(entry: entry, family: nil, verdict: .blocked(table: "inet custom", chain: "in", why: "rule 4: drop")),
            BlockingReport(entry: entry, family: nil, verdict: .open),
        ])
        XCTAssertEqual(advice.map(\.fix), [.dockerConfiguration, .attach(.init(family: "inet", table: "custom", chain: "in"))])
        XCTAssertEqual(advice.map(\.finding), [.drops(why: "policy drop"), .drops(why: "rule 4: drop")])
    }

    func testRulesReadLikeNft() throws {
        func text(_ listing: String, _ handle: Int) throws -> String? {
            try LiveRuleset(json: listing).rules.first { $0.handle == handle }.map { BlockingAnalyzer.RuleText.render($0.expr) }
        }
        XCTAssertEqual(try text(Listings.firewalld, 7), "ct state { established, related } accept")
        XCTAssertEqual(try text(Listings.firewalld, 12), "reject with icmpx admin-prohibited")
        XCTAssertEqual(try text(Listings.firewalld, 13), "iifname eth0 goto filter_IN_public")
        XCTAssertEqual(try text(Listings.sets, 6), "meta l4proto . th dport @media accept")
        XCTAssertEqual(try text(Listings.features, 5), "tcp dport vmap { 25 : drop, 110 : accept }")
        XCTAssertEqual(try text(Listings.features, 8), "tcp dport < 1024 ct state new drop")
        XCTAssertEqual(try text(Listings.iptables, 8), "udp dport 6970-6999 xt -m comment accept")
    }

    func testDescriptions() {
        XCTAssertEqual(BlockingVerdict.open.description, "open")
        XCTAssertEqual(
            BlockingVerdict.blocked(table: "ip filter", chain: "INPUT", why: "policy drop").description,
            "blocked by ip filter/INPUT (policy drop)")
        XCTAssertEqual(
            BlockingVerdict.unknown(table: "ip filter", chain: "INPUT", rule: "rule 3: x").description,
            "unknown (ip filter/INPUT: rule 3: x)")
    }
}

/// `nft -j list ruleset` output captured from throwaway network namespaces (nftables 1.0.6, iptables-nft 1.8.9).
enum Listings {
    /// A fresh namespace: no tables at all.
    static let empty = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}]}
        """#

    /// iptables-nft: `-P INPUT DROP`, conntrack, `-i lo`, `--dport 554 -j ACCEPT`, `--dport 80 -j REJECT`,
    /// `-s 192.0.2.0/24 --dport 7070 -j ACCEPT`, `-m multiport --dports 8000,8001`, `--dport 6970:6999 -m comment`.
    static let iptables = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "ip", "name": "filter", "handle": 1}}, {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [{"xt": {"type": "match", "name": "conntrack"}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 3, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 4, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 80}}, {"counter": {"packets": 0, "bytes": 0}}, {"xt": {"type": "target", "name": "REJECT"}}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "192.0.2.0", "len": 24}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7070}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 7, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"xt": {"type": "match", "name": "multiport"}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 8, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": {"range": [6970, 6999]}}}, {"xt": {"type": "match", "name": "comment"}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}]}
        """#

    /// firewalld-like: filter_INPUT (policy accept) jumps to the zones, gotos public (on eth0 or not), ends in reject.
    static let firewalld = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "firewalld", "handle": 1}}, {"chain": {"family": "inet", "table": "firewalld", "name": "filter_INPUT", "handle": 1, "type": "filter", "hook": "input", "prio": 10, "policy": "accept"}}, {"chain": {"family": "inet", "table": "firewalld", "name": "filter_INPUT_ZONES", "handle": 2}}, {"chain": {"family": "inet", "table": "firewalld", "name": "filter_IN_public", "handle": 3}}, {"chain": {"family": "inet", "table": "firewalld", "name": "filter_IN_public_pre", "handle": 4}}, {"chain": {"family": "inet", "table": "firewalld", "name": "filter_IN_public_allow", "handle": 5}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT", "handle": 7, "expr": [{"match": {"op": "==", "left": {"ct": {"key": "state"}}, "right": {"set": ["established", "related"]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT", "handle": 8, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "status"}}, "right": "dnat"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT", "handle": 9, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT", "handle": 10, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "invalid"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT", "handle": 11, "expr": [{"jump": {"target": "filter_INPUT_ZONES"}}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT", "handle": 12, "expr": [{"reject": {"type": "icmpx", "expr": "admin-prohibited"}}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT_ZONES", "handle": 13, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth0"}}, {"goto": {"target": "filter_IN_public"}}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_INPUT_ZONES", "handle": 14, "expr": [{"goto": {"target": "filter_IN_public"}}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_IN_public", "handle": 15, "expr": [{"jump": {"target": "filter_IN_public_pre"}}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_IN_public", "handle": 16, "expr": [{"jump": {"target": "filter_IN_public_allow"}}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_IN_public", "handle": 18, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": {"set": ["icmp", "ipv6-icmp"]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_IN_public_allow", "handle": 20, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"match": {"op": "==", "left": {"ct": {"key": "state"}}, "right": {"set": ["new", "untracked"]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_IN_public_allow", "handle": 22, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "daddr"}}, "right": {"prefix": {"addr": "fe80::", "len": 64}}}}, {"match": {"op": "==", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 546}}, {"match": {"op": "==", "left": {"ct": {"key": "state"}}, "right": {"set": ["new", "untracked"]}}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "firewalld", "chain": "filter_IN_public_allow", "handle": 24, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}, {"match": {"op": "==", "left": {"ct": {"key": "state"}}, "right": {"set": ["new", "untracked"]}}}, {"accept": null}]}}]}
        """#

    /// `meta mark 0x1 drop` under policy accept.
    static let mark = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "admin", "handle": 1}}, {"chain": {"family": "inet", "table": "admin", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 2, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "mark"}}, "right": 1}}, {"drop": null}]}}]}
        """#

    /// `fib daddr type != local drop` under policy accept.
    static let fib = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "admin", "handle": 1}}, {"chain": {"family": "inet", "table": "admin", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 2, "expr": [{"match": {"op": "!=", "left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local"}}, {"drop": null}]}}]}
        """#

    /// portctl's own table, policy drop.
    static let own = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "portctl", "handle": 1}}, {"chain": {"family": "inet", "table": "portctl", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "inet", "table": "portctl", "chain": "input", "handle": 2, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}]}
        """#

    /// Named sets: `tcp dport @web` (80, 443, 8000-8099) and `meta l4proto . th dport @media` (tcp . 554, udp . 6970-6999), policy drop.
    static let sets = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "admin", "handle": 1}}, {"set": {"family": "inet", "name": "web", "table": "admin", "type": "inet_service", "handle": 2, "flags": ["interval"], "elem": [80, 443, {"range": [8000, 8099]}]}}, {"set": {"family": "inet", "name": "media", "table": "admin", "type": ["inet_proto", "inet_service"], "handle": 3, "flags": ["interval"], "elem": [{"concat": ["tcp", 554]}, {"concat": ["udp", {"range": [6970, 6999]}]}]}}, {"chain": {"family": "inet", "table": "admin", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 4, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": "@web"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 6, "expr": [{"match": {"op": "==", "left": {"concat": [{"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]}, "right": "@media"}}, {"accept": null}]}}]}
        """#

    /// An admin's inet filter table with policy drop that jumps to portctl's chain (attach mode).
    static let attach = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "filter", "handle": 1}}, {"chain": {"family": "inet", "table": "filter", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"chain": {"family": "inet", "table": "filter", "name": "portctl", "handle": 2}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 3, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 4, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "lo"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 5, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 22}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "input", "handle": 6, "expr": [{"jump": {"target": "portctl"}}]}}, {"rule": {"family": "inet", "table": "filter", "chain": "portctl", "handle": 7, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}, {"accept": null}]}}]}
        """#

    /// vmap, `iifname "eth*"`, `!=`, `ct state invalid`, `tcp dport < 1024` under policy accept.
    static let features = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "inet", "name": "admin", "handle": 1}}, {"chain": {"family": "inet", "table": "admin", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 2, "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 3, "expr": [{"match": {"op": "==", "left": {"meta": {"key": "iif"}}, "right": "lo"}}, {"accept": null}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 5, "expr": [{"vmap": {"key": {"payload": {"protocol": "tcp", "field": "dport"}}, "data": {"set": [[25, {"drop": null}], [110, {"accept": null}]]}}}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 6, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": {"range": [1000, 2000]}}}, {"match": {"op": "==", "left": {"meta": {"key": "iifname"}}, "right": "eth*"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 7, "expr": [{"match": {"op": "!=", "left": {"payload": {"protocol": "udp", "field": "dport"}}, "right": 53}}, {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "invalid"}}, {"drop": null}]}}, {"rule": {"family": "inet", "table": "admin", "chain": "input", "handle": 8, "expr": [{"match": {"op": "<", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 1024}}, {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "new"}}, {"drop": null}]}}]}
        """#

    /// iptables-nft: policy DROP, `-s 203.0.113.0/24 -j DROP`, `--dport 554 -j ACCEPT`.
    static let saddrdrop = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "ip", "name": "filter", "handle": 1}}, {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": {"prefix": {"addr": "203.0.113.0", "len": 24}}}}, {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}]}
        """#

    /// iptables and ip6tables, both policy DROP; 554 accepted in both, 7070 only in ip6tables.
    static let both = #"""
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}}, {"table": {"family": "ip", "name": "filter", "handle": 1}}, {"chain": {"family": "ip", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "ip", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"table": {"family": "ip6", "name": "filter", "handle": 2}}, {"chain": {"family": "ip6", "table": "filter", "name": "INPUT", "handle": 1, "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}, {"rule": {"family": "ip6", "table": "filter", "chain": "INPUT", "handle": 2, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 554}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}, {"rule": {"family": "ip6", "table": "filter", "chain": "INPUT", "handle": 3, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 7070}}, {"counter": {"packets": 0, "bytes": 0}}, {"accept": null}]}}]}
        """#
}
