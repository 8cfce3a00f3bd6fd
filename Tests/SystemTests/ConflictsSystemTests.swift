import Foundation
import TestSupport
import XCTest

/// Port 80 and other users' sockets, in a namespace of the test's own.
final class ConflictsSystemTests: XCTestCase {
    var pair: NamespacePair!
    var work: URL!

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "python3", "setpriv"]) { throw XCTSkip(reason) }
        pair = try NamespacePair()
        work = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-conflicts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        // A program that the kernel names "nginx": python3, copied under that name.
        try FileManager.default.copyItem(
            atPath: try realPath(SystemTestGate.find("python3")!), toPath: work.appendingPathComponent("nginx").path)
    }

    override func tearDown() {
        pair?.destroy()
        if let work { try? FileManager.default.removeItem(at: work) }
    }

    func realPath(_ path: String) throws -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }

    func startWebServer(port: Int) throws -> Process {
        try pair.start(
            in: pair.server,
            [
                work.appendingPathComponent("nginx").path, "-c",
                "import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',\(port)))\ns.listen()\nprint('ready',flush=True)\ntime.sleep(60)",
            ],
            waitForLine: "ready")
    }

    /// These tests are about the live host's sockets, so the --port80 check reads the real root.
    func portctl(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let real = ["plan", "apply"].contains(arguments.first ?? "") ? ["--conflict-root", "/"] : []
        return try pair.run(in: pair.server, [TestPaths.binary("portctl").path] + arguments + real, environment: environment)
    }

    func testPort80RefusesWhileAWebServerHoldsIt() throws {
        let web = try startWebServer(port: 80)
        let conflicts = try portctl(["conflicts", "dss", "--port80"])
        XCTAssertEqual(conflicts.status, 2)
        XCTAssertTrue(
            conflicts.stdout.contains("held by \(web.processIdentifier) \(work.appendingPathComponent("nginx").path) on 0.0.0.0:80"),
            conflicts.stdout)
        XCTAssertEqual(
            conflicts.stderr,
            "portctl: error: nginx (pid \(web.processIdentifier)) holds 80/tcp, which dss/rtsp-http needs: stop it (kill \(web.processIdentifier)) and keep it from starting at boot, move it to another port, or drop --port80 and use 554/7070\n"
        )

        let plan = try portctl(["plan", "dss", "--port80", "-q"])
        XCTAssertEqual(plan.status, 2)
        XCTAssertTrue(plan.stderr.hasPrefix("portctl: error: --port80: nginx (pid \(web.processIdentifier)) holds 80/tcp"), plan.stderr)
        XCTAssertEqual(plan.stdout, "")
        XCTAssertEqual(try portctl(["plan", "dss", "-q"]).status, 0, "without --port80 nothing needs port 80")

        let forced = try portctl(["plan", "dss", "--port80", "--force", "-q"])
        XCTAssertEqual(forced.status, 0)
        XCTAssertTrue(forced.stderr.contains("--force: going ahead although nginx"), forced.stderr)

        let state = work.appendingPathComponent("state").path
        let refused = try portctl(["apply", "dss", "--port80", "-q", "--state-dir", state])
        XCTAssertEqual(refused.status, 2)
        XCTAssertEqual(try pair.run(in: pair.server, ["nft", "list", "tables"]).stdout, "", "a refused apply changes nothing")
        let applied = try portctl(["apply", "dss", "--port80", "--force", "-q", "--state-dir", state])
        XCTAssertEqual(applied.status, 0, applied.stderr)
        let history = try portctl(["history", "--json", "--state-dir", state])
        XCTAssertTrue(history.stdout.contains("forced: "), "--force is recorded in the history: \(history.stdout)")
    }

    func testUnprivilegedRunShowsPortsButNotOtherUsersOwners() throws {
        _ = try startWebServer(port: 8088)
        let result = try pair.run(
            in: pair.server,
            [
                SystemTestGate.find("setpriv")!, "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                TestPaths.binary("portctl").path, "conflicts", "--port", "8088/tcp",
            ])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stdout.contains("held by uid 0 on 0.0.0.0:8088 (owner hidden: run as root)"), result.stdout)
        XCTAssertTrue(result.stderr.contains("portctl: notice: not running as root: owners of "), result.stderr)
        // As root the owner is named.
        let root = try portctl(["conflicts", "--port", "8088/tcp"])
        XCTAssertTrue(root.stdout.contains("/nginx on 0.0.0.0:8088"), root.stdout)
    }

    /// A server configuration that puts RTSP on port 80 (`--config`) meets the same rule as
    /// --port80; nginx's own configuration does not conflict with nginx.
    func testAConfigurationOnPort80IsRefusedWhileAWebServerHoldsIt() throws {
        let web = try startWebServer(port: 80)
        let dss = work.appendingPathComponent("streamingserver.xml").path
        try """
        <?xml version="1.0"?>
        <CONFIGURATION>
        <SERVER>
        <LIST-PREF NAME="rtsp_port" TYPE="UInt16"><VALUE>554</VALUE><VALUE>80</VALUE></LIST-PREF>
        </SERVER>
        </CONFIGURATION>

        """.write(toFile: dss, atomically: true, encoding: .utf8)
        let refused = try portctl(["plan", "--config", dss, "-q"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(
            refused.stderr.hasPrefix("portctl: error: --config: nginx (pid \(web.processIdentifier)) holds 80/tcp"), refused.stderr)
        XCTAssertEqual(refused.stdout, "")
        let state = work.appendingPathComponent("state").path
        XCTAssertEqual(try portctl(["apply", "--config", dss, "-q", "--state-dir", state]).status, 2)
        XCTAssertEqual(try pair.run(in: pair.server, ["nft", "list", "tables"]).stdout, "", "a refused apply changes nothing")
        XCTAssertEqual(try portctl(["plan", "--config", dss, "--force", "-q"]).status, 0)

        let nginx = work.appendingPathComponent("nginx.conf").path
        try "events { }\nhttp { server { listen 80; } }\n".write(toFile: nginx, atomically: true, encoding: .utf8)
        XCTAssertEqual(try portctl(["plan", "--config", nginx, "-q"]).status, 0, "nginx's own port 80 is not a conflict")
    }
}
