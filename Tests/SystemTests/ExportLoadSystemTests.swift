import Foundation
import TestSupport
import XCTest

/// The firewalld, ufw and iptables exports load in those tools' own parsers. Nothing is installed
/// on the host: firewalld and ufw read the files from a temporary directory, and iptables-restore
/// runs in test mode inside a fresh network namespace.
final class ExportLoadSystemTests: XCTestCase {
    static let python = "/usr/bin/python3"

    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "portctl-export-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    func pythonHas(_ module: String) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else { return false }
        return (try? runProcess(Self.python, ["-c", "import \(module)"]).status) == 0
    }

    func testFirewalldLoadsEveryBundledService() throws {
        if !SystemTestGate.enabled { throw XCTSkip("system tests are off: set PORTCTL_SYSTEM_TESTS=1") }
        guard pythonHas("firewall.core.io.service") else {
            throw XCTSkip("firewalld's Python package is not installed (apt install python3-firewall)")
        }
        let directory = try temporaryDirectory()
        for name in try PlanNftablesSystemTests.bundledNames() {
            let arguments = try PlanNftablesSystemTests.fullArguments(name)
            let xml = try portctl(arguments + ["--format", "firewalld"])
            try xml.stdout.write(to: directory.appendingPathComponent("portctl-\(name).xml"), atomically: true, encoding: .utf8)
            let expectedPorts = try portctl(arguments + ["--json"])
            let plan = try JSONSerialization.jsonObject(with: Data(expectedPorts.stdout.utf8)) as! [String: Any]
            let world = (plan["openings"] as! [[String: Any]]).filter {
                $0["from"] as? String == "world" && $0["direction"] as? String != "out"
            }
            let script = """
                import sys
                from firewall.core.io.service import service_reader
                s = service_reader(sys.argv[1], sys.argv[2])
                print(";".join(f"{p}/{t}" for p, t in s.ports))
                """
            let result = try runProcess(Self.python, ["-c", script, "portctl-\(name).xml", directory.path])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let loaded = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let expected = world.map { "\($0["ports"]!)/\($0["transport"]!)" }.joined(separator: ";")
            XCTAssertEqual(loaded, expected, name)
        }
    }

    func testUfwLoadsEveryBundledApplicationProfile() throws {
        if !SystemTestGate.enabled { throw XCTSkip("system tests are off: set PORTCTL_SYSTEM_TESTS=1") }
        guard pythonHas("ufw.applications") else { throw XCTSkip("ufw is not installed (apt install ufw)") }
        for name in try PlanNftablesSystemTests.bundledNames() {
            let directory = try temporaryDirectory()
            let profile = try portctl(try PlanNftablesSystemTests.fullArguments(name) + ["--format", "ufw"])
            try profile.stdout.write(to: directory.appendingPathComponent("portctl-\(name)"), atomically: true, encoding: .utf8)
            let script = """
                import gettext, sys
                gettext.install("ufw")
                import ufw.applications as apps
                profiles = apps.get_profiles(sys.argv[1])
                for n in sorted(profiles):
                    apps.verify_profile(n, profiles[n])
                    print(n, "|".join(apps.get_ports(profiles[n])))
                """
            let result = try runProcess(Self.python, ["-c", script, directory.path])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stdout.hasPrefix("portctl-\(name) "), "\(name): \(result.stdout) \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Skipping"), result.stderr)
        }
    }

    func testIptablesRestoreAcceptsBothFamilies() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["unshare", "iptables-restore", "ip6tables-restore"]) {
            throw XCTSkip(reason)
        }
        let directory = try temporaryDirectory()
        for name in try PlanNftablesSystemTests.bundledNames() {
            let arguments = try PlanNftablesSystemTests.fullArguments(name) + ["--format", "iptables"]
            let v4 = directory.appendingPathComponent("\(name).v4").path
            let v6 = directory.appendingPathComponent("\(name).v6").path
            try portctl(arguments + ["--ip-family", "ipv4"]).stdout.write(toFile: v4, atomically: true, encoding: .utf8)
            try portctl(arguments + ["--ip-family", "ipv6"]).stdout.write(toFile: v6, atomically: true, encoding: .utf8)
            let result = try inFreshNetworkNamespace(
                "iptables-restore --test --noflush < \(v4) && ip6tables-restore --test --noflush < \(v6)")
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
        }
    }
}
