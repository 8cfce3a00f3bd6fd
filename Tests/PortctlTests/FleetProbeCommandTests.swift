import Foundation
import TestSupport
import XCTest

/// Several hosts in one probe, on loopback addresses: hosts and profiles told apart, --targets
/// lines with their own plans, one report with a testsuite per host.
final class FleetProbeCommandTests: XCTestCase {
    func scratch(_ text: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("targets-\(UUID().uuidString)")
        try text.write(to: file, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        return file.path
    }

    func testHostsAndProfilesOnTheCommandLine() throws {
        let closed = freeLoopbackPort()
        let result = try portctl(["probe", "127.0.0.1", "127.0.0.2", "--ports", "\(closed)/tcp", "--timeout", "300ms", "--format", "json"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let hosts = try XCTUnwrap(json["hosts"] as? [[String: Any]])
        XCTAssertEqual(hosts.map { $0["host"] as? String }, ["127.0.0.1", "127.0.0.2"])
        for host in hosts {
            let results = try XCTUnwrap(host["results"] as? [[String: Any]])
            XCTAssertEqual(results.map { $0["verdict"] as? String }, ["closed"])
        }
        XCTAssertEqual(json["passed"] as? Bool, false)

        let junit = try portctl(["probe", "127.0.0.1", "127.0.0.2", "--ports", "\(closed)/tcp", "--timeout", "300ms", "--format", "junit"])
        XCTAssertEqual(junit.stdout.components(separatedBy: "<testsuite name=").count - 1, 2, junit.stdout)
        XCTAssertTrue(junit.stdout.contains("<testsuite name=\"127.0.0.2\" tests=\"1\" failures=\"1\""), junit.stdout)
        XCTAssertTrue(junit.stdout.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"portctl probe\" tests=\"2\""))

        let table = try portctl(["probe", "127.0.0.1", "127.0.0.2", "--ports", "\(closed)/tcp", "--timeout", "300ms"])
        XCTAssertTrue(table.stdout.hasPrefix("Probe of 2 hosts\n\nHOST"), table.stdout)
        XCTAssertTrue(table.stdout.contains("127.0.0.2: 0 ok, 1 failed\n"), table.stdout)
    }

    func testATargetsFileGivesEachHostItsPlan() throws {
        let closed = freeLoopbackPort()
        let file = try scratch("# edge servers\n127.0.0.1\n127.0.0.2 pna   # RealAudio only\n\n")
        let result = try portctl(["probe", "--targets", file, "--ports", "\(closed)/tcp", "--timeout", "300ms", "--format", "json"])
        XCTAssertEqual(result.status, 1, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let hosts = try XCTUnwrap(json["hosts"] as? [[String: Any]])
        XCTAssertEqual(hosts.map { $0["host"] as? String }, ["127.0.0.1", "127.0.0.2"])
        func ports(_ index: Int) -> [String] {
            ((hosts[index]["results"] as? [[String: Any]]) ?? []).map { "\($0["port"]!)/\($0["transport"]!)" }
        }
        XCTAssertEqual(ports(0), ["\(closed)/tcp"], "a line with only a host uses the command line's plan")
        XCTAssertEqual(Set(ports(1)), ["7070/tcp", "\(closed)/tcp"], "pna's port, and --ports")

        let bad = try scratch("127.0.0.1\n127.0.0.2 pna --bogus\n")
        let refused = try portctl(["probe", "--targets", bad, "--ports", "\(closed)/tcp"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertEqual(refused.stderr, "portctl: error: --targets: \(bad):2: Error: Unknown option '--bogus'\n")
        let empty = try scratch("# nothing\n")
        XCTAssertEqual(try portctl(["probe", "--targets", empty, "--ports", "\(closed)/tcp"]).status, 64)
        XCTAssertEqual(try portctl(["probe", "--targets", "/nonexistent/targets", "--ports", "\(closed)/tcp"]).status, 66)
        let media = try portctl(["probe", "127.0.0.1", "127.0.0.2", "--ports", "\(closed)/tcp", "--media"])
        XCTAssertEqual(media.status, 64)
        XCTAssertTrue(media.stderr.contains("--media: plays one host at a time"), media.stderr)
    }

    /// Hosts that share the command line's profiles and flags share one plan, made once; a
    /// --targets line with flags of its own still gets a plan of its own.
    func testHostsThatShareThePlanGetItAndALineWithFlagsGetsItsOwn() throws {
        let closed = freeLoopbackPort()
        let file = try scratch("127.0.0.3\n127.0.0.4 dss --broadcaster 127.0.0.1\n")
        let result = try portctl([
            "probe", "127.0.0.1", "127.0.0.2", "dss", "--targets", file, "--ports", "\(closed)/tcp", "--timeout", "100ms", "--icmp-budget",
            "0",
            "--format", "json",
        ])
        XCTAssertEqual(result.status, 1, result.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let hosts = try XCTUnwrap(json["hosts"] as? [[String: Any]])
        func ports(_ index: Int) -> Set<String> {
            Set(((hosts[index]["results"] as? [[String: Any]]) ?? []).map { "\($0["port"]!)/\($0["transport"]!)" })
        }
        XCTAssertEqual(hosts.map { $0["host"] as? String }, ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"])
        XCTAssertEqual(ports(0), ports(1))
        XCTAssertEqual(ports(0), ports(2))
        XCTAssertFalse(ports(0).contains("10000/udp"), "the shared plan leaves the broadcast range closed")
        XCTAssertTrue(ports(3).contains("10000/udp"), "the line's own --broadcaster opens it for that host")
    }

    func testTheJUnitFileIsWrittenBesideTheJSON() throws {
        let closed = freeLoopbackPort()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("junit-\(UUID().uuidString).xml").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: file) }
        let result = try portctl([
            "probe", "127.0.0.1", "127.0.0.2", "--ports", "\(closed)/tcp", "--timeout", "300ms", "--format", "json", "--junit-file", file,
        ])
        XCTAssertEqual(result.status, 1)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let junit = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertEqual(junit.components(separatedBy: "<testsuite name=").count - 1, 2, junit)
        let refused = try portctl([
            "probe", "127.0.0.1", "--ports", "\(closed)/tcp", "--timeout", "300ms", "--junit-file", "/nonexistent/x.xml",
        ])
        XCTAssertEqual(refused.status, 73)
        XCTAssertTrue(refused.stderr.contains("--junit-file: cannot write '/nonexistent/x.xml'"), refused.stderr)
    }
}
