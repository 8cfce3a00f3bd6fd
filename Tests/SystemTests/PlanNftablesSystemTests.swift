import Foundation
import TestSupport
import XCTest

/// Runs portctl's nftables output through the real nft and kernel, each time in a fresh network
/// namespace (unshare --net), never on the host.
final class PlanNftablesSystemTests: XCTestCase {
    static func bundledNames() throws -> [String] {
        let result = try portctl(["profiles", "list", "--json"])
        let items = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [[String: Any]]
        return items.map { $0["name"] as! String }
    }

    /// Every option each profile offers, every source set filled, both IP families.
    static func fullArguments(_ name: String) throws -> [String] {
        let show = try portctl(["profiles", "show", name, "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        var arguments = [
            "plan", name, "-q", "--admin-from", "192.0.2.0/24", "--admin-from", "2001:db8::/32", "--broadcaster", "198.51.100.7",
        ]
        for option in (json["options"] as! [String: Any]).keys.sorted() { arguments += ["--with", option] }
        for set in (json["source_sets"] as! [String: Any]).keys.sorted() { arguments += ["--source-set", "\(set)=203.0.113.0/24"] }
        return arguments
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-\(getpid())-\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// `nft -c` is libnftables' dry-run (check) mode: the kernel validates the batch, nothing is committed.
    func testEveryBundledProfileIsAcceptedByNftCheckMode() throws {
        if let reason = SystemTestGate.reasonToSkip() { throw XCTSkip(reason) }
        let names = try Self.bundledNames()
        XCTAssertGreaterThanOrEqual(names.count, 14)
        for name in names {
            for arguments in [["plan", name, "-q"], try Self.fullArguments(name)] {
                let text = try portctl(arguments + ["--format", "nft"])
                let json = try portctl(arguments + ["--format", "nft-json"])
                XCTAssertEqual(text.status, 0, text.stderr)
                let textFile = try write(text.stdout, "\(name).nft")
                let jsonFile = try write(json.stdout, "\(name).json")
                let check = try inFreshNetworkNamespace("nft -c -f \(textFile) && nft -j -c -f \(jsonFile) && nft list ruleset | wc -c")
                XCTAssertEqual(check.status, 0, "\(arguments.joined(separator: " ")): \(check.stderr)")
                XCTAssertEqual(check.stdout, "0\n", "check mode must not commit anything")
            }
        }
    }

    /// The same check through portctl's own libnftables binding: `apply --dry-run` runs the batch in
    /// libnftables' dry-run mode and commits nothing.
    func testEveryBundledProfilePassesLibnftablesDryRunThroughApply() throws {
        if let reason = SystemTestGate.reasonToSkip() { throw XCTSkip(reason) }
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-dry-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        for name in try Self.bundledNames() {
            var arguments = try Self.fullArguments(name)
            arguments[0] = "apply"
            let command = ([TestPaths.binary("portctl").path] + arguments + ["--dry-run", "--state-dir", state]).map { "'\($0)'" }.joined(
                separator: " ")
            let result = try inFreshNetworkNamespace("\(command) && nft list ruleset | wc -c")
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stdout.hasPrefix("dry run: the kernel accepts this change"), "\(name): \(result.stdout)")
            XCTAssertTrue(result.stdout.hasSuffix("\n0\n"), "a dry run commits nothing: \(result.stdout)")
        }
    }

    /// The text and the JSON come from one model, so loading either gives the same kernel ruleset.
    func testTextAndJSONLoadTheSameRuleset() throws {
        if let reason = SystemTestGate.reasonToSkip() { throw XCTSkip(reason) }
        let arguments = try Self.fullArguments("dss") + ["--port80"]
        let textFile = try write(try portctl(arguments + ["--format", "nft"]).stdout, "dss-full.nft")
        let jsonFile = try write(try portctl(arguments + ["--format", "nft-json"]).stdout, "dss-full.json")
        let result = try inFreshNetworkNamespace(
            """
            nft -f \(textFile); nft list ruleset > /dev/stdout; echo ====; nft flush ruleset
            nft -j -f \(jsonFile); nft list ruleset
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        let parts = result.stdout.components(separatedBy: "====\n")
        XCTAssertEqual(parts.count, 2)
        XCTAssertEqual(parts[0], parts[1])
        XCTAssertTrue(parts[0].contains("udp . 6970-6999 counter packets 0 bytes 0 comment \"dss/media\""))
        // The full DSS plan with every option stays within 12 rules, baseline included.
        let rules = parts[0].split(separator: "\n").filter { $0.contains(" accept") || $0.contains(" drop") }.filter {
            !$0.contains("policy")
        }
        XCTAssertLessThanOrEqual(rules.count, 12)
    }

    /// Applying the same script twice replaces the table instead of appending duplicates.
    func testTheScriptReplacesOnlyItsOwnTable() throws {
        if let reason = SystemTestGate.reasonToSkip() { throw XCTSkip(reason) }
        let file = try write(try portctl(["plan", "dss", "-q", "--format", "nft"]).stdout, "dss.nft")
        let result = try inFreshNetworkNamespace(
            """
            nft add table inet filter
            nft add chain inet filter input '{ type filter hook input priority 0; policy accept; }'
            nft add rule inet filter input tcp dport 9999 accept
            nft -f \(file); nft list ruleset > /tmp/portctl-once.$$
            nft -f \(file); nft list ruleset > /tmp/portctl-twice.$$
            cmp /tmp/portctl-once.$$ /tmp/portctl-twice.$$ && echo SAME
            nft list table inet filter | grep -c 'tcp dport 9999 accept'
            rm -f /tmp/portctl-once.$$ /tmp/portctl-twice.$$
            """)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "SAME\n1\n")
    }

    /// Hostile text in a profile (quotes, semicolons, braces, newlines) cannot reach nft syntax.
    func testHostileProfileTextStaysInsideComments() throws {
        if let reason = SystemTestGate.reasonToSkip() { throw XCTSkip(reason) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-hostile-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"""
        name: hostile
        title: "x\" ; flush ruleset ; add table ip evil { }"
        source: "}\n; delete table inet filter"
        openings:
          - id: a
            purpose: "\"; add table ip evil { chain c { type filter hook input priority 0; policy accept; } } #"
            ports: [5000/tcp]
        """#.write(to: directory.appendingPathComponent("hostile.yaml"), atomically: true, encoding: .utf8)
        let text = try portctl(["plan", "hostile", "--profile-dir", directory.path, "-q", "--format", "nft"])
        let json = try portctl(["plan", "hostile", "--profile-dir", directory.path, "-q", "--format", "nft-json"])
        XCTAssertEqual(text.status, 0, text.stderr)
        let textFile = try write(text.stdout, "hostile.nft")
        let jsonFile = try write(json.stdout, "hostile.json")
        for (flag, file) in [("", textFile), ("-j", jsonFile)] {
            let result = try inFreshNetworkNamespace(
                """
                nft add table inet filter
                nft \(flag) -f \(file)
                nft list tables
                """)
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, "table inet filter\ntable inet portctl\n")
        }
    }
}
