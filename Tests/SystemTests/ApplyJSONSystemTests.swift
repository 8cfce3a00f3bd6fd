import Foundation
import TestSupport
import XCTest

/// `apply --json`'s `changed`, which configuration management reports (check mode uses --dry-run):
/// true for a change and for a dry run of one, false for a re-apply and a dry run of the same plan.
final class ApplyJSONSystemTests: ApplyNamespaceTestCase {
    func changed(_ arguments: [String]) throws -> (Bool?, String?) {
        let result = try portctl(["apply"] + arguments + ["--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return (json?["changed"] as? Bool, json?["outcome"] as? String)
    }

    func testChangedTellsARealChangeFromTheSamePlan() throws {
        XCTAssertEqual(try changed(["rtsp", "--dry-run"]).0, true, "nothing applied yet: a dry run would change")
        XCTAssertEqual(try ruleset(), "", "a dry run changes nothing")
        let first = try changed(["rtsp"])
        XCTAssertEqual(first.0, true)
        XCTAssertEqual(first.1, "applied")
        let again = try changed(["rtsp"])
        XCTAssertEqual(again.0, false)
        XCTAssertEqual(again.1, "no-change")
        let check = try changed(["rtsp", "--dry-run"])
        XCTAssertEqual(check.0, false, "check mode of the same plan reports no change")
        XCTAssertEqual(try changed(["rtsp", "rtmp", "--dry-run"]).0, true, "another plan would change")
        // A hand edit: the same plan would change the ruleset back.
        XCTAssertEqual(
            try pair.run(in: pair.server, ["nft", "delete", "element", "inet", "portctl", "world_ports", "{ tcp . 554 }"]).status, 0)
        XCTAssertEqual(try changed(["rtsp", "--dry-run"]).0, true, "drift: a real apply would restore it")
        XCTAssertEqual(try changed(["rtsp"]).0, true)
    }
}
