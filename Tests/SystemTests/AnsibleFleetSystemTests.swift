import Foundation
import TestSupport
import XCTest

/// The Ansible collection over SSH across three host namespaces and a vantage namespace
/// (Scripts/ansible-fleet.sh says what is checked). sshd is started by hand with throwaway keys and
/// stopped by PID; nothing is enabled on the machine.
final class AnsibleFleetSystemTests: XCTestCase {
    func testAFleetIsAppliedCheckedAndProbedThroughAnsible() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "ansible-playbook", "ansible-galaxy", "ssh-keygen", "ssh"]) {
            throw XCTSkip(reason)
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
            throw XCTSkip("openssh-server is not installed (scripts/install-deps --test installs it, and leaves ssh disabled)")
        }
        let script = TestPaths.repository.appendingPathComponent("Tests/SystemTests/Scripts/ansible-fleet.sh").path
        let result = try runProcess(
            "/bin/bash", [script, TestPaths.binary("portctl").path, TestPaths.binary("streamd").path, TestPaths.repository.path],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"], timeout: 600)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        for check in [
            "ok: ansible-doc shows every module, with examples", "ok: the first run applies a different plan on each of three hosts",
            "ok: a second run reports changed=0 on every host",
            "ok: --check reports the change and changes nothing on any host",
            "ok: a host with an invalid plan fails alone, with portctl's message and exit code",
            "ok: one JUnit file, a testsuite per host: planned ports ok, unplanned ports filtered",
            "ok: the role applies under --confirm, confirms over a new connection, and probes from the vantage host",
            "ok: the role serves the plan with streamd for the validation window, probes it, and stops it",
        ] {
            XCTAssertTrue(result.stdout.contains(check), "\(check)\n\(result.stdout)")
        }
    }
}
