import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// Issue 11, item 2: a state directory that cannot be written (full, read-only, immutable)
/// changes nothing, and portctl's objects are found in the kernel without their state.
final class StateDirectorySystemTests: SafeApplyFixture {
    // MARK: - Item 2: a state directory that cannot be written

    /// A full file system, a read-only one and an immutable directory: apply, rollback, remove and
    /// apply --confirm each exit 73, say nothing was changed, and leave the ruleset byte-identical.
    func testAStateDirectoryThatCannotBeWrittenChangesNothing() throws {
        guard SystemTestGate.find("chattr") != nil else { throw XCTSkip("chattr is not installed (e2fsprogs)") }
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let portctl = "ip netns exec \(pair.server) \(TestPaths.binary("portctl").path)"
        // Each case prints: CASE <name> <exit status> <same|changed> <first stderr line>.
        let script = """
            nft_list() { ip netns exec \(pair.server) nft -s list ruleset; }
            check() {
              name=$1; shift
              before=$(nft_list)
              "$@" > /tmp/out.$$ 2> /tmp/err.$$; code=$?
              after=$(nft_list)
              if [ "$before" = "$after" ]; then same=same; else same=changed; fi
              echo "CASE $name $code $same $(head -n 1 /tmp/err.$$)"
              rm -f /tmp/out.$$ /tmp/err.$$
            }
            mount -t tmpfs -o size=512k tmpfs \(mount)
            # A fresh state directory on a full file system.
            dd if=/dev/zero of=\(mount)/fill bs=4k 2>/dev/null || true
            check fresh-full-apply \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) -q --state-dir \(mount)/fresh
            rm -f \(mount)/fill
            # An existing state (generation 1), then the file system fills up.
            \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) -q --state-dir \(mount)/state || echo "SETUP-FAILED"
            dd if=/dev/zero of=\(mount)/fill bs=4k 2>/dev/null || true
            check full-apply \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) --port80 -q --state-dir \(mount)/state
            check full-rollback \(portctl) rollback --state-dir \(mount)/state
            check full-remove \(portctl) remove --state-dir \(mount)/state
            check full-confirm \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) --port80 --confirm 1 -q --state-dir \(mount)/state
            sleep 1.5
            check full-after-deadline true
            rm -f \(mount)/fill
            # Read-only.
            mount -o remount,ro \(mount)
            check ro-apply \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) --port80 -q --state-dir \(mount)/state
            check ro-rollback \(portctl) rollback --state-dir \(mount)/state
            check ro-remove \(portctl) remove --state-dir \(mount)/state
            mount -o remount,rw \(mount)
            # Immutable.
            chattr +i \(mount)/state
            check immutable-apply \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) --port80 -q --state-dir \(mount)/state
            check immutable-remove \(portctl) remove --state-dir \(mount)/state
            chattr -i \(mount)/state
            umount \(mount)
            """
        let result = try runProcess(
            SystemTestGate.find("unshare")!, ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"], timeout: 120)
        XCTAssertFalse(result.stdout.contains("SETUP-FAILED"), result.stdout + result.stderr)
        var cases: [String: (status: String, same: String, message: String)] = [:]
        for line in result.stdout.split(separator: "\n") where line.hasPrefix("CASE ") {
            let words = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            cases[words[1]] = (words[2], words[3], words.count > 4 ? words[4] : "")
        }
        let expected = [
            "fresh-full-apply", "full-apply", "full-rollback", "full-remove", "full-confirm", "ro-apply", "ro-rollback", "ro-remove",
            "immutable-apply", "immutable-remove",
        ]
        for name in expected {
            guard let found = cases[name] else {
                XCTFail("\(name) did not run: \(result.stdout) \(result.stderr)")
                continue
            }
            XCTAssertEqual(found.status, "73", "\(name): \(found.message)")
            XCTAssertEqual(found.same, "same", "\(name): the ruleset changed: \(found.message)")
            XCTAssertTrue(found.message.contains("nothing was changed") || found.message.contains("cannot"), "\(name): \(found.message)")
        }
        XCTAssertEqual(cases["full-after-deadline"]?.same, "same", "no rollback timer acts on a change that never happened")
        XCTAssertTrue(
            cases["fresh-full-apply"]?.message.hasPrefix("portctl: error: cannot save the state before applying, so nothing was changed")
                ?? false)
    }

    /// The state directory fills up while a change awaits confirmation: the rollback at the
    /// deadline happens all the same (it is never stopped, nor undone, by the state), and the
    /// apply says so from what the kernel holds.
    func testAFullStateDirectoryAtTheDeadlineStillRollsBack() throws {
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-deadline-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let portctl = "ip netns exec \(pair.server) \(TestPaths.binary("portctl").path)"
        let script = """
            mount -t tmpfs -o size=512k tmpfs \(mount)
            ip netns exec \(pair.server) nft -s list ruleset > \(mount)/../before.$$
            \(portctl) apply dss --conflict-root \(TestPaths.emptyRoot) --confirm 2 -q --state-dir \(mount)/state > /tmp/apply-out.$$ 2>&1 &
            apply=$!
            sleep 1
            dd if=/dev/zero of=\(mount)/fill bs=4k 2>/dev/null || true
            wait $apply; echo "APPLY $?"
            cat /tmp/apply-out.$$; rm -f /tmp/apply-out.$$
            if ip netns exec \(pair.server) nft -s list ruleset | cmp -s - \(mount)/../before.$$; then echo "RULESET same"; else echo "RULESET changed"; fi
            rm -f \(mount)/../before.$$
            umount \(mount)
            """
        let result = try runProcess(
            SystemTestGate.find("unshare")!, ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", script],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"], timeout: 60)
        XCTAssertTrue(result.stdout.contains("RULESET same"), "rolled back at the deadline: \(result.stdout) \(result.stderr)")
        XCTAssertTrue(result.stdout.contains("APPLY 3"), result.stdout)
        XCTAssertTrue(
            result.stdout.contains("not confirmed in time: generation 1 was rolled back"), result.stdout)
    }

    /// A failure after the commit (injected) undoes the commit: the ruleset is as before.
    func testAStateThatFailsAfterTheCommitIsUndone() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let before = try ruleset()
        let failed = try portctl(["apply", "dss", "--port80", "-q", "--fault", "apply.finalize=fail"])
        XCTAssertEqual(failed.status, 73, failed.stderr)
        XCTAssertEqual(
            failed.stderr,
            "portctl: error: cannot save the state (cannot write \(stateDirectory!)/current: injected fault), so the change was undone: nothing was changed\n"
        )
        XCTAssertEqual(try ruleset(), before)
        XCTAssertEqual(try portctl(["status"]).status, 0, "state and kernel agree: generation 1, no drift")
    }

    /// The worst case the issue names: a drop-policy table live, and a state that knows nothing of it.
    func testRemoveFindsPortctlsTableWithoutItsState() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let other = stateDirectory + "-other"
        defer { try? FileManager.default.removeItem(atPath: other) }
        let status = try portctl(["status"], state: other)
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.stdout.contains("But standalone inet portctl is live with no record in this state directory"), status.stdout)
        let removed = try portctl(["remove"], state: other)
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertEqual(removed.stdout, "removed portctl's rules (standalone inet portctl, live with no record in \(other))\n")
        XCTAssertEqual(try ruleset(), "")
    }
}
