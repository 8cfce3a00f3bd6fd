import Foundation
import TestSupport
import XCTest

@testable import CommandSupport
@testable import PortProbe
@testable import portctl

/// `--config` on the command line: what plan prints, and the exit codes and messages of bad input.
final class ConfigCommandTests: XCTestCase {
    let fixture = TestPaths.repository.appendingPathComponent("Tests/Fixtures/configs/mediamtx/mediamtx.yml").path

    func scratch(_ name: String, _ text: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-cmd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testPlanFollowsTheConfigurationWithOrWithoutTheProfileNamed() throws {
        let detected = try portctl(["plan", "--config", fixture])
        XCTAssertEqual(detected.status, 0, detected.stderr)
        XCTAssertTrue(detected.stdout.contains("Configuration: \(fixture) (mediamtx)"), detected.stdout)
        XCTAssertTrue(detected.stdout.contains("mediamtx/rtmp mediamtx.yml:19 rtmpAddress: 0.0.0.0:1936"), detected.stdout)
        let named = try portctl(["plan", "mediamtx", "--config", fixture])
        XCTAssertEqual(named.stdout, detected.stdout)
        // A profile of another kind joins the plan beside the configuration's.
        let combined = try portctl(["plan", "rtmp", "--config", fixture, "--json"])
        XCTAssertEqual(combined.status, 0, combined.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(combined.stdout.utf8)) as? [String: Any]
        XCTAssertEqual((json?["profiles"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["rtmp", "mediamtx"])
    }

    func testBadConfigurationsExitWithTheirDocumentedCodes() throws {
        let missing = try portctl(["plan", "--config", "/nonexistent/mediamtx.yml"])
        XCTAssertEqual(missing.status, 66)
        XCTAssertEqual(missing.stderr, "portctl: error: --config: /nonexistent/mediamtx.yml: no such file\n")
        XCTAssertEqual(missing.stdout, "", "never a partial plan")

        let bad = try scratch("mediamtx.yml", "rtspAddress: :8554\nrtmpAddress: :99999\n")
        let range = try portctl(["plan", "--config", bad])
        XCTAssertEqual(range.status, 65)
        XCTAssertEqual(
            range.stderr,
            "portctl: error: --config: \(bad):2: rtmpAddress ':99999': port 99999 is out of range (1-65535); expected [HOST]:PORT, e.g. :1935\n"
        )
        XCTAssertEqual(range.stdout, "")

        let unknown = try scratch("notes.txt", "hello\n")
        let undetected = try portctl(["plan", "--config", unknown])
        XCTAssertEqual(undetected.status, 65)
        XCTAssertTrue(undetected.stderr.contains("cannot tell which server this configuration is for; name its profile"), undetected.stderr)

        // A profile without a reader does not say what the file is: it must tell by itself.
        let noReader = try portctl(["plan", "rtmp", "--config", unknown])
        XCTAssertEqual(noReader.status, 65)
        XCTAssertTrue(noReader.stderr.contains("(readers: dss, mediamtx, nginx-rtmp, icecast2, wowza, srs)"), noReader.stderr)

        let mismatch = try portctl(["plan", "icecast2", "--config", fixture])
        XCTAssertEqual(mismatch.status, 65)
        XCTAssertEqual(
            mismatch.stderr,
            "portctl: error: --config: \(fixture): looks like a configuration of mediamtx, not of icecast2; name the mediamtx profile, or leave the profile out\n"
        )

        let twice = try portctl(["plan", "--config", fixture, "--config", fixture])
        XCTAssertEqual(twice.status, 64)
        XCTAssertTrue(twice.stderr.contains("are both mediamtx configurations; plan one server of each kind"), twice.stderr)

        let nothing = try portctl(["plan"])
        XCTAssertEqual(nothing.status, 64)
        XCTAssertTrue(nothing.stderr.contains("name at least one profile, or a server configuration with --config FILE"), nothing.stderr)

        let ufw = try portctl(["plan", "--config", fixture, "--format", "ufw"])
        XCTAssertEqual(ufw.status, 64)
        XCTAssertTrue(ufw.stderr.contains("--format: ufw cannot limit an opening to one local address"), ufw.stderr)
    }

    /// The configuration decides: a profile option does not apply to it.
    func testOptionsAreTheConfigurationsToDecide() throws {
        let result = try portctl(["plan", "--config", fixture, "--with", "api"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("--with: 'api' is not an option of mediamtx"), result.stderr)
    }

    /// conflicts checks exactly the ports the configuration opens, under their openings' names.
    func testConflictsChecksTheConfiguredPorts() throws {
        let result = try portctl(["conflicts", "--config", fixture, "--json"])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stderr)
        let rows = try XCTUnwrap(json["ports"] as? [[String: Any]])
        XCTAssertEqual(
            Set(rows.map { "\($0["ports"]!)/\($0["transport"]!)" }),
            ["1936/tcp", "8323/tcp", "8555/tcp", "8889/tcp", "8189/udp", "9997/tcp"])
        XCTAssertEqual(rows.first { $0["ports"] as? String == "1936" }?["needed_by"] as? [String], ["mediamtx/rtmp"])
    }

    /// The drift check's remedy is the command that applied the generation, quoted for a shell,
    /// with the configuration as the absolute path it was read from.
    func testTheRemedyRepeatsTheApplyWithAbsolutePaths() {
        XCTAssertEqual(
            ConfigDrift.remedy(
                ["/usr/sbin/portctl", "apply", "rtmp", "--config", "m.yml", "--admin-from", "10.0.0.0/8", "-q"],
                configs: ["/etc/media mtx/m.yml"]),
            "portctl apply rtmp --config '/etc/media mtx/m.yml' --admin-from 10.0.0.0/8 -q")
        XCTAssertEqual(ConfigDrift.quoted("it's"), "'it'\\''s'")
    }

    func testStreamNamesAreEncodedForRequests() {
        XCTAssertEqual(ProbePaths.percentEncoded("/live/cam 1"), "/live/cam%201")
        XCTAssertEqual(ProbePaths.percentEncoded("/a\r\nX: y"), "/a%0D%0AX%3A%20y")
    }

    /// nginx's own port 80 earns no "web server's port" warning.
    func testNginxsOwnPort80IsNotAWebServerWarning() throws {
        let nginx = try scratch("nginx.conf", "events { }\nhttp { server { listen 80; } }\n")
        let result = try portctl(["plan", "--config", nginx])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertFalse(result.stderr.contains("web server's port"), result.stderr)
    }
}
