import Foundation
import TestSupport
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

/// Every bundled profile in every format, compared byte for byte with Tests/SharedTests/Golden.
/// Regenerate with scripts/update-goldens after a deliberate change, and review the diff.
final class GoldenTests: XCTestCase {
    static let directory = TestPaths.repository.appendingPathComponent("Tests/SharedTests/Golden")
    static var updating: Bool { ProcessInfo.processInfo.environment["PORTCTL_UPDATE_GOLDENS"] == "1" }

    /// The request each golden is made from: every option on, and every source set filled.
    static func fullRequest(_ profile: Profile) -> PlanRequest {
        var sets: [String: [CIDR]] = [
            "admins": [Fixtures.cidr("192.0.2.0/24"), Fixtures.cidr("2001:db8::/32")],
            "broadcasters": [Fixtures.cidr("198.51.100.7")],
        ]
        for name in profile.sourceSets.keys { sets[name] = [Fixtures.cidr("203.0.113.0/24")] }
        return PlanRequest(profiles: [profile], options: Set(profile.options.keys), sourceSets: sets)
    }

    func check(_ name: String, _ actual: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = Self.directory.appendingPathComponent(name)
        if Self.updating {
            try FileManager.default.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            XCTFail("missing golden \(name); run scripts/update-goldens", file: file, line: line)
            return
        }
        if expected != actual {
            XCTFail(
                "\(name) \(Self.difference(expected: expected, actual: actual)); run scripts/update-goldens if the change is intended",
                file: file, line: line)
        }
    }

    /// Where two texts first differ, in words; when one is the other plus more lines, says so
    /// (a plain zip of the lines would find no differing line and name line 1).
    static func difference(expected: String, actual: String) -> String {
        let old = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let new = actual.split(separator: "\n", omittingEmptySubsequences: false)
        if let index = zip(old, new).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            return "differs from its golden at line \(index + 1): expected '\(old[index])', got '\(new[index])'"
        }
        if new.count > old.count {
            let more = new.count - old.count
            return "has \(more) more line\(more == 1 ? "" : "s") than its golden, from line \(old.count + 1): '\(new[old.count])'"
        }
        let fewer = old.count - new.count
        return "has \(fewer) fewer line\(fewer == 1 ? "" : "s") than its golden, from line \(new.count + 1): expected '\(old[new.count])'"
    }

    func testTheFailureMessageSaysWhereTwoTextsDiffer() {
        XCTAssertEqual(Self.difference(expected: "a\nb", actual: "a\nc"), "differs from its golden at line 2: expected 'b', got 'c'")
        XCTAssertEqual(Self.difference(expected: "a\nb", actual: "a\nb\nc"), "has 1 more line than its golden, from line 3: 'c'")
        XCTAssertEqual(Self.difference(expected: "a\nb\nc", actual: "a"), "has 2 fewer lines than its golden, from line 2: expected 'b'")
    }

    func testEveryBundledProfileInEveryFormat() throws {
        XCTAssertGreaterThanOrEqual(BundledProfiles.files.count, 14)
        for (name, _) in BundledProfiles.files {
            let plan = Planner.plan(Self.fullRequest(Fixtures.bundled(name)))
            for format in PlanFormat.allCases {
                try check("\(name).\(format.fileExtension)", format.render(plan))
            }
        }
    }

    func testDefaultDSSPlan() throws {
        let plan = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")]))
        for format in PlanFormat.allCases {
            try check("dss-defaults.\(format.fileExtension)", format.render(plan))
        }
    }

    func testCombinedPlan() throws {
        let request = PlanRequest(
            profiles: ["dss", "rtmp", "mms", "pna", "shoutcast"].map(Fixtures.bundled), options: ["port80", "tls"],
            sourceSets: ["admins": [Fixtures.cidr("192.0.2.0/24")], "broadcasters": [Fixtures.cidr("198.51.100.7")]])
        let plan = Planner.plan(request)
        for format in PlanFormat.allCases {
            try check("combined.\(format.fileExtension)", format.render(plan))
        }
    }
}
