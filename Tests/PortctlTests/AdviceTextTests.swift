import XCTest

@testable import FirewallState
@testable import PortModel
@testable import portctl

/// The words of each advice, as `status` prints them after `hint: ` and `doctor` as a `hint`
/// check: what the library decides (SharedTests/BlockingAdviceTests), said the same way every time.
final class AdviceTextTests: XCTestCase {
    func ports(_ specs: String..., family: IPFamily? = nil) throws -> [BlockingAdvice.Ports] {
        try specs.map { BlockingAdvice.Ports(spec: try PortSpec(parsing: $0), family: family) }
    }

    func point(_ family: String, _ table: String, _ chain: String) -> BlockingAdvice.AttachPoint {
        BlockingAdvice.AttachPoint(family: family, table: table, chain: chain)
    }

    func testFirewalld() throws {
        let advice = BlockingAdvice(
            table: "inet firewalld", chain: "filter_INPUT", finding: .drops(why: "rule 12: reject"),
            ports: try ports("7070/tcp", "6970-6999/udp"),
            fix: .firewalldService(profiles: ["media", "mp3"], attach: point("inet", "firewalld", "filter_INPUT")))
        XCTAssertEqual(
            advice.text,
            "inet firewalld/filter_INPUT drops 7070/tcp, 6970-6999/udp (rule 12: reject); firewalld drops it: use `portctl plan media mp3 --format firewalld` and add the service to the zone, or --attach 'inet firewalld filter_INPUT'"
        )
    }

    func testIptablesForEachFamily() throws {
        let v4 = BlockingAdvice(
            table: "ip filter", chain: "INPUT", finding: .drops(why: "policy drop"), ports: try ports("80/tcp", "7070/tcp", family: .ipv4),
            fix: .iptablesRestore(family: .ipv4, profiles: ["media"], attach: point("ip", "filter", "INPUT")))
        XCTAssertEqual(
            v4.text,
            "ip filter/INPUT drops 80/tcp (IPv4), 7070/tcp (IPv4) (policy drop); this is iptables (iptables-nft): use --attach 'ip filter INPUT', or load `portctl plan media --format iptables` with iptables-restore --noflush and add `iptables -I INPUT -j PORTCTL`"
        )
        let v6 = BlockingAdvice(
            table: "ip6 filter", chain: "INPUT", finding: .drops(why: "policy drop"), ports: try ports("80/tcp", family: .ipv6),
            fix: .iptablesRestore(family: .ipv6, profiles: ["media"], attach: point("ip6", "filter", "INPUT")))
        XCTAssertEqual(
            v6.text,
            "ip6 filter/INPUT drops 80/tcp (IPv6) (policy drop); this is iptables (iptables-nft): use --attach 'ip6 filter INPUT', or load `portctl plan media --format iptables` with ip6tables-restore --noflush and add `ip6tables -I INPUT -j PORTCTL`"
        )
    }

    func testDockerAndOtherTables() throws {
        let docker = BlockingAdvice(
            table: "ip docker-bridges", chain: "input", finding: .drops(why: "policy drop"), ports: try ports("554/tcp"),
            fix: .dockerConfiguration)
        XCTAssertEqual(
            docker.text,
            "ip docker-bridges/input drops 554/tcp (policy drop); Docker manages this table and rewrites it when it restarts, so attaching portctl there does not last: allow the ports in Docker's configuration instead"
        )
        let custom = BlockingAdvice(
            table: "inet custom", chain: "in", finding: .drops(why: "rule 4: drop"), ports: try ports("554/tcp"),
            fix: .attach(point("inet", "custom", "in")))
        XCTAssertEqual(
            custom.text,
            "inet custom/in drops 554/tcp (rule 4: drop); an accept in portctl's table does not cancel a drop in another table: use --attach 'inet custom in' to put portctl's rules in that chain, or allow the ports there"
        )
    }

    func testARuleToCheckByHand() throws {
        let advice = BlockingAdvice(
            table: "inet admin", chain: "input", finding: .mayDrop(rule: "rule 2: meta mark 1 drop"), ports: try ports("554/tcp"),
            fix: .attach(point("inet", "admin", "input")))
        XCTAssertEqual(
            advice.text,
            "portctl cannot tell whether inet admin/input drops 554/tcp: check rule 2: meta mark 1 drop by hand; an accept in portctl's table does not cancel a drop in another table: use --attach 'inet admin input' to put portctl's rules in that chain, or allow the ports there"
        )
    }
}
