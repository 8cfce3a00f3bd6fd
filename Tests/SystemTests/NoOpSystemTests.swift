import Foundation
import TestSupport
import XCTest

/// The no-op of issue 13 against a real kernel: the ruleset generation says "nothing changed",
/// another program's commit costs a comparison of portctl's own table, an edit of that table is
/// repaired, and a plan too large to read back gets its fingerprint from `status`.
final class NoOpSystemTests: ApplyNamespaceTestCase {
    func meta(_ generation: Int) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: stateDirectory + "/generations/\(generation)/meta.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func nft(_ arguments: [String]) throws {
        let result = try pair.run(in: pair.server, ["nft"] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func testAnotherProgramsCommitKeepsTheNoOpAndAnEditIsRepaired() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let mark = try XCTUnwrap(try meta(1)["kernelMark"] as? String, "the commit was the kernel's only one: its mark is kept")
        XCTAssertEqual(mark.split(separator: " ").count, 3, mark)
        XCTAssertFalse((try meta(1)["fingerprint"] as? String ?? "").isEmpty, "a small plan is read back")

        // Another program commits to a table of its own: portctl compares its table, finds it as
        // applied, and says so, with the kernel's new generation remembered for next time.
        try nft(["add", "table", "inet", "other"])
        let again = try portctl(["apply", "dss"])
        XCTAssertTrue(again.stdout.hasPrefix("no change: generation 1"), again.stdout + again.stderr)
        XCTAssertNotEqual(try meta(1)["kernelMark"] as? String, mark)

        // An edit of portctl's own table is not a no-op: the plan is applied again.
        try nft(["delete", "element", "inet", "portctl", "world_ports", "{ tcp . 7070 }"])
        let repaired = try portctl(["apply", "dss"])
        XCTAssertTrue(repaired.stdout.hasPrefix("applied generation 2"), repaired.stdout + repaired.stderr)
        XCTAssertTrue(try ruleset().contains("tcp . 7070"))
    }

    func testALargePlanGetsItsFingerprintFromStatus() throws {
        // 2,500 admin networks: more than portctl reads back after a commit.
        let list = URL(fileURLWithPath: stateDirectory + ".allow")
        defer { try? FileManager.default.removeItem(at: list) }
        try (0..<2_500).map { "10.\($0 >> 8).\($0 & 255).0/24" }.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let plan = ["dss", "--admin-from", "@" + list.path]
        XCTAssertEqual(try portctl(["apply"] + plan + ["-q"]).status, 0)
        XCTAssertEqual(try meta(1)["fingerprint"] as? String, "", "not read back")

        let status = try portctl(["status"])
        XCTAssertEqual(status.status, 0, status.stdout + status.stderr)
        XCTAssertTrue(status.stdout.contains("Drift: none"), status.stdout)
        XCTAssertFalse((try meta(1)["fingerprint"] as? String ?? "").isEmpty, "recorded by status: the kernel had not moved")

        // Now another program's commit does not cost a re-apply: the fingerprint decides.
        try nft(["add", "table", "inet", "other"])
        let again = try portctl(["apply"] + plan)
        XCTAssertTrue(again.stdout.hasPrefix("no change: generation 1"), again.stdout + again.stderr)
    }

    func testALargePlansDriftIsUnknownWhenTheKernelMovedBeforeStatus() throws {
        let list = URL(fileURLWithPath: stateDirectory + ".allow")
        defer { try? FileManager.default.removeItem(at: list) }
        try (0..<2_500).map { "10.\($0 >> 8).\($0 & 255).0/24" }.joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        XCTAssertEqual(try portctl(["apply", "dss", "--admin-from", "@" + list.path, "-q"]).status, 0)
        try nft(["add", "table", "inet", "other"])
        let status = try portctl(["status"])
        XCTAssertTrue(status.stdout.contains("Drift: unknown"), status.stdout)
        XCTAssertEqual(try meta(1)["fingerprint"] as? String, "", "nothing recorded from a kernel that moved")
    }
}
