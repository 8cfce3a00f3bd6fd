import Foundation
import TestSupport
import XCTest

final class CommandTests: XCTestCase {
    func testPlanPrintsTheTableAndWarnsOnStderr() throws {
        let result = try portctl(["plan", "dss"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.hasPrefix("Plan: dss (Darwin / QuickTime Streaming Server)\n"))
        XCTAssertTrue(result.stdout.contains("6970-6999  udp    both  any       RTP/RTCP media"))
        XCTAssertTrue(result.stdout.contains("1220       tcp    in    loopback"))
        XCTAssertTrue(result.stderr.contains("portctl: warning: dss/broadcast (10000-65535/udp) is left closed"))
        XCTAssertFalse(result.stdout.contains("warning"))
        let quiet = try portctl(["plan", "dss", "-q"])
        XCTAssertEqual(quiet.stderr, "")
        XCTAssertEqual(quiet.stdout, result.stdout)
    }

    func testIssueExampleCombinesProfiles() throws {
        let result = try portctl([
            "plan", "dss", "rtmp", "--port80", "--admin-from", "192.0.2.0/24", "--broadcaster", "198.51.100.7", "--json", "-q",
        ])
        XCTAssertEqual(result.status, 0)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["schema"] as? String, "portctl.plan")
        XCTAssertEqual(json["version"] as? Int, 1)
        let openings = try XCTUnwrap(json["openings"] as? [[String: Any]])
        let port80 = try XCTUnwrap(openings.first { $0["ports"] as? String == "80" })
        let provenance = try XCTUnwrap(port80["provenance"] as? [[String: Any]])
        XCTAssertEqual(provenance.map { "\($0["profile"]!)/\($0["opening"]!)" }, ["dss/rtsp-http", "rtmp/rtmpt"])
        let admin = try XCTUnwrap(openings.first { $0["ports"] as? String == "1220" })
        XCTAssertEqual(admin["from"] as? String, "admins")
        let sources = try XCTUnwrap(json["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.first { $0["name"] as? String == "admins" }?["addresses"] as? [String], ["192.0.2.0/24"])
        let nftables = try XCTUnwrap(json["nftables"] as? [String: Any])
        XCTAssertLessThanOrEqual(nftables["rules"] as! Int, 12)
    }

    func testEveryFormatRendersFromTheCLI() throws {
        let expectations: [String: String] = [
            "nft": "table inet portctl {", "nft-json": "\"nftables\"", "firewalld": "<service>",
            "ufw": "[portctl-dss]", "iptables": ":PORTCTL - [0:0]", "json": "\"schema\": \"portctl.plan\"", "table": "PORT",
        ]
        for (format, marker) in expectations {
            let result = try portctl(["plan", "dss", "--format", format, "-q"])
            XCTAssertEqual(result.status, 0, format)
            XCTAssertTrue(result.stdout.contains(marker), format)
        }
        let v6 = try portctl(["plan", "dss", "--format", "iptables", "--ip-family", "ipv6", "-q"])
        XCTAssertTrue(v6.stdout.contains("ip6tables-restore"))
        XCTAssertFalse(v6.stdout.contains("IPv4"))
    }

    /// A profile in a directory overrides the bundled one, and `profiles show` says which file won.
    func testUserProfileOverridesBundledOne() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-override-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        name: dss
        title: Our DSS
        source: our own notes
        openings:
          - id: rtsp
            purpose: RTSP on our port
            ports: [8554/tcp]
            service: rtsp
        """.write(to: directory.appendingPathComponent("dss.yaml"), atomically: true, encoding: .utf8)

        let show = try portctl(["profiles", "show", "dss", "--profile-dir", directory.path])
        XCTAssertEqual(show.status, 0)
        XCTAssertTrue(show.stdout.contains("File: \(directory.path)/dss.yaml\n"))
        XCTAssertTrue(show.stdout.contains("Overrides: bundled:dss.yaml\n"))
        let plan = try portctl(["plan", "dss", "--profile-dir", directory.path, "-q"])
        XCTAssertTrue(plan.stdout.contains("8554"))
        XCTAssertFalse(plan.stdout.contains("6970"))

        // The same through XDG_CONFIG_HOME, the ~/.config/portctl/profiles of the admin.
        let config = directory.appendingPathComponent("config/portctl/profiles")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: directory.appendingPathComponent("dss.yaml"), to: config.appendingPathComponent("dss.yaml"))
        let list = try portctl(
            ["profiles", "list", "--json"], environment: ["XDG_CONFIG_HOME": directory.appendingPathComponent("config").path])
        let items = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        let dss = try XCTUnwrap(items.first { $0["name"] as? String == "dss" })
        XCTAssertEqual(dss["file"] as? String, config.appendingPathComponent("dss.yaml").path)
        XCTAssertEqual(dss["overrides"] as? [String], ["bundled:dss.yaml"])
    }

    func testProfilesWorkFromAnyDirectory() throws {
        let result = try runProcess(
            TestPaths.binary("portctl").path, ["profiles", "list"], environment: ["HOME": "/nonexistent"],
            currentDirectory: URL(fileURLWithPath: "/"))
        XCTAssertEqual(result.status, 0)
        for name in ["dss", "rtsp", "rtmp", "mms", "pna", "http-streaming", "shoutcast", "mediamtx", "icecast2"] {
            XCTAssertTrue(result.stdout.contains("\n\(name) "), name)
        }
    }

    func testProfilesShowJSON() throws {
        let result = try portctl(["profiles", "show", "dss", "--json"])
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(json["file"] as? String, "bundled:dss.yaml")
        XCTAssertEqual((json["openings"] as? [[String: Any]])?.count, 6)
    }

    func testCheckJSONReportsDiagnostics() throws {
        let path = CorpusTests.corpus.appendingPathComponent("port-zero.yaml").path
        let result = try portctl(["profiles", "check", "--json", path])
        XCTAssertEqual(result.status, 65)
        let items = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let diagnostics = try XCTUnwrap(items.first?["diagnostics"] as? [[String: Any]])
        XCTAssertEqual(diagnostics.first?["line"] as? Int, 7)
        XCTAssertEqual(diagnostics.first?["column"] as? Int, 13)
        XCTAssertEqual(diagnostics.first?["severity"] as? String, "error")
    }

    func testBundledProfilesPassStrictCheck() throws {
        let directory = TestPaths.repository.appendingPathComponent("profiles")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        let result = try portctl(["profiles", "check", "--strict"] + files.map { directory.appendingPathComponent($0).path })
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
    }

    /// `--state-dir ''` once wrote current, generations/, history.jsonl and lock into the current
    /// directory (often /): it is refused before anything is written.
    func testAnEmptyStateDirectoryIsRefusedAndNothingIsWritten() throws {
        // Isolated (network and mount namespaces, a scratch working directory): were the value
        // accepted, nothing on this machine would change. The refusal is checked from its message
        // and status; that nothing was written, from the root and working directory it would use.
        for arguments in [["apply", "dss"], ["remove"], ["rollback"], ["confirm"], ["status"], ["history"]] {
            let result = try portctlIsolated(arguments + ["--state-dir", ""])
            XCTAssertEqual(result.status, 64, arguments.joined(separator: " "))
            XCTAssertEqual(result.stderr, "portctl: error: --state-dir: '' is empty; give an absolute directory, e.g. /var/lib/portctl\n")
        }
        for name in ["current", "generations", "history.jsonl", "lock"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: "/" + name), "nothing was written into /: \(name)")
        }
    }
}
