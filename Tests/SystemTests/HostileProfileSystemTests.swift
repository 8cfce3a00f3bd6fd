import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// Profiles whose free text is hostile, applied to a real kernel in a namespace.
final class HostileProfileSystemTests: ApplyNamespaceTestCase {
    /// Hostile text in every free-text field of a profile changes nothing outside portctl's table.
    func testHostileProfilesCannotReachOtherTables() throws {
        XCTAssertEqual(try pair.run(in: pair.server, ["nft", "add", "table", "inet", "filter"]).status, 0)
        XCTAssertEqual(
            try pair.run(
                in: pair.server,
                ["nft", "add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy accept; }"]
            ).status, 0)
        let others = try pair.run(in: pair.server, ["nft", "list", "table", "inet", "filter"]).stdout
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededRandom(seed: 2026)
        let pieces = [
            "\"", "'", ";", "{", "}", "\\n", "\\\"", "#", "$", "`", "flush ruleset", "delete table inet filter", "add table ip evil", "}}]",
            "\\u0000",
        ]
        for round in 0..<12 {
            func hostile() -> String { (0..<8).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined(separator: " ") }
            let yaml = """
                name: hostile
                title: "\(hostile())"
                description: "\(hostile())"
                source: "\(hostile())"
                options:
                  extra: "\(hostile())"
                openings:
                  - id: a
                    purpose: "\(hostile())"
                    ports: [\(5000 + round)/tcp]
                  - id: b
                    purpose: "\(hostile())"
                    ports: [\(6000 + round)/udp]
                    when: extra
                """
            try yaml.write(to: directory.appendingPathComponent("hostile.yaml"), atomically: true, encoding: .utf8)
            let result = try portctl(["apply", "hostile", "--with", "extra", "--profile-dir", directory.path, "-q"])
            if result.status == 65 { continue }  // a string YAML itself refuses: nothing to apply
            XCTAssertEqual(result.status, 0, "round \(round): \(result.stderr)")
            XCTAssertEqual(try pair.run(in: pair.server, ["nft", "list", "table", "inet", "filter"]).stdout, others)
            XCTAssertEqual(try pair.run(in: pair.server, ["nft", "list", "tables"]).stdout, "table inet filter\ntable inet portctl\n")
        }
    }
}
