import Foundation
import PortModel
import FirewallState
import TestSupport
import XCTest

/// The safety promises of apply, against a real kernel in a namespace of the test's own, under the
/// faults that used to break them: a process killed at each step of an `apply --confirm`, a
/// watchdog that dies, a pending record written late, a state directory that cannot be written.
final class SafeApplySystemTests: XCTestCase {
    var pair: NamespacePair!
    var stateDirectory: String!

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "unshare", "mount"]) { throw XCTSkip(reason) }
        pair = try NamespacePair()
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-safe-\(UUID().uuidString)").path
    }

    override func tearDown() {
        pair?.destroy()
        if let stateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    @discardableResult
    func portctl(_ arguments: [String], environment: [String: String] = [:], state: String? = nil) throws -> ProcessResult {
        try pair.run(in: pair.server, [TestPaths.binary("portctl").path] + arguments + ["--state-dir", state ?? stateDirectory], environment: environment)
    }

    func ruleset() throws -> String {
        try pair.run(in: pair.server, ["nft", "-s", "list", "ruleset"]).stdout
    }

    var pendingExists: Bool { FileManager.default.fileExists(atPath: stateDirectory + "/pending.json") }

    /// Waits until the ruleset is `expected` and nothing is pending, for at most `seconds`.
    func settle(to expected: String, within seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if try ruleset() == expected, !pendingExists { return true }
            usleep(50_000)
        } while Date() < deadline
        return false
    }

    // MARK: - Item 1: the confirm watchdog

    /// SIGKILL at each step of `apply --confirm`: wherever it lands, the change is gone by its
    /// deadline (or never happened), nothing stays pending, and the next apply is not blocked.
    func testKillingApplyAtAnyStepLeavesNoUnwatchedChange() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let before = try ruleset()
        let steps = [
            "apply.locked", "apply.watchdog-spawned", "apply.generation-written", "apply.journal-written", "apply.pending-written",
            "apply.committed", "apply.finalized", "apply.unlocked",
        ]
        for step in steps {
            let started = Date()
            let apply = try portctl(["apply", "dss", "--port80", "--confirm", "1", "-q", "--fault", "\(step)=kill"])
            XCTAssertEqual(apply.status, 9, "\(step): killed by SIGKILL: \(apply.stderr)")
            XCTAssertTrue(try settle(to: before, within: 6), "\(step): the change is rolled back or was never made")
            XCTAssertLessThan(Date().timeIntervalSince(started), 6, step)
            let next = try portctl(["apply", "dss", "-q"])
            XCTAssertEqual(next.status, 0, "\(step): a later apply is not blocked: \(next.stderr)")
            XCTAssertEqual(try ruleset(), before, step)
        }
        let history = try portctl(["history", "--json"]).stdout
        XCTAssertFalse(history.contains("auto-rollback-failed"), history)
    }

    /// The issue's measurement, without any hook: SIGKILL to `apply --confirm` at moments from 0 to
    /// 110 ms after it starts (its commit lands in that window). Whenever it dies, the change is
    /// gone by its deadline, or never happened.
    func testKillingApplyAtAnyMomentLeavesNoUnwatchedChange() throws {
        let before = try ruleset()
        for milliseconds in stride(from: 0, through: 110, by: 10) {
            let apply = try Launched(
                in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "1", "-q", "--state-dir", stateDirectory])
            usleep(UInt32(milliseconds) * 1000)
            apply.stop()
            apply.wait()
            XCTAssertTrue(try settle(to: before, within: 5), "killed after \(milliseconds) ms: the change outlived its deadline")
            let next = try portctl(["status"])
            XCTAssertEqual(next.status, 0, "killed after \(milliseconds) ms: \(next.stdout) \(next.stderr)")
        }
    }

    /// The original race: the pending record written well after the watchdog started looking.
    func testAPendingRecordWrittenLateStillRollsBack() throws {
        let before = try ruleset()
        let apply = try portctl(
            ["apply", "dss", "--confirm", "1", "-q", "--fault", "apply.watchdog-spawned=delay:300,apply.journal-written=delay:200"])
        XCTAssertEqual(apply.status, 3, apply.stderr)
        XCTAssertEqual(apply.stderr, "portctl: error: not confirmed in time: generation 1 was rolled back\n")
        XCTAssertTrue(try settle(to: before, within: 3))
    }

    /// The watchdog dies; the apply that is still waiting rolls back in its place.
    func testAWatchdogThatDiesIsReplacedByTheWaitingApply() throws {
        let before = try ruleset()
        let apply = try portctl(["apply", "dss", "--confirm", "1", "-q", "--fault", "watchdog.armed=kill"])
        XCTAssertEqual(apply.status, 3, apply.stderr)
        XCTAssertTrue(apply.stderr.contains("not confirmed in time: generation 1 was rolled back"), apply.stderr)
        XCTAssertEqual(try ruleset(), before)
        XCTAssertFalse(pendingExists)
    }

    /// Both the apply and its watchdog die: the next portctl to take the lock rolls back the
    /// expired change, says so, and goes on.
    func testAStalePendingChangeIsRolledBackByTheNextPortctl() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let before = try ruleset()
        let apply = try portctl(
            ["apply", "dss", "--port80", "--confirm", "1", "-q", "--fault", "watchdog.armed=kill,apply.unlocked=kill"])
        XCTAssertEqual(apply.status, 9)
        XCTAssertNotEqual(try ruleset(), before, "both processes died with the change live")
        XCTAssertTrue(pendingExists)
        usleep(1_200_000)
        let next = try portctl(["apply", "dss", "-q"])
        XCTAssertEqual(next.status, 0, next.stderr)
        XCTAssertTrue(next.stderr.contains("generation 2 was not confirmed in time and its rollback timer had stopped: rolled back"), next.stderr)
        XCTAssertEqual(try ruleset(), before)
        let events = try portctl(["history", "--json"]).stdout
        XCTAssertTrue(events.contains("its rollback timer had stopped"), events)
    }

    /// An older auto-rollback in the history does not decide a later change's outcome.
    func testTheOutcomeIsTheOneOfThisChange() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "--confirm", "1", "-q"]).status, 3)
        let apply = try Launched(in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "20", "--state-dir", stateDirectory])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !pendingExists { usleep(50_000) }
        let confirm = try portctl(["confirm"])
        XCTAssertEqual(confirm.status, 0, confirm.stderr)
        XCTAssertEqual(confirm.stdout, "confirmed generation 2\n")
        XCTAssertEqual(apply.wait(), 0)
        XCTAssertTrue(apply.output().contains("confirmed generation 2"), apply.output())
        XCTAssertTrue(try ruleset().contains("table inet portctl"))
    }

    /// A confirmation that comes after the deadline (the watchdog is slow to act) is refused, and
    /// the change is rolled back as promised.
    func testAConfirmationAfterTheDeadlineIsTooLate() throws {
        let before = try ruleset()
        let apply = try Launched(
            in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "1", "-q", "--state-dir", stateDirectory, "--fault", "watchdog.deadline=delay:1500"])
        usleep(1_600_000)
        let confirm = try portctl(["confirm"])
        XCTAssertEqual(confirm.status, 1)
        XCTAssertEqual(confirm.stderr, "portctl: error: too late: generation 1 passed its deadline and is being rolled back\n")
        XCTAssertEqual(apply.wait(), 3, apply.output())
        XCTAssertTrue(try settle(to: before, within: 3))
    }

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
        XCTAssertTrue(cases["fresh-full-apply"]?.message.hasPrefix("portctl: error: cannot save the state before applying, so nothing was changed") ?? false)
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
            "portctl: error: cannot save the state (cannot write \(stateDirectory!)/current: injected fault), so the change was undone: nothing was changed\n")
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

    // MARK: - Found by the adversarial review of the new order

    /// Runs `script` in private mount and a shell; `$PORTCTL` runs portctl in the server namespace.
    func inPrivateMounts(_ script: String, timeout: TimeInterval = 90) throws -> String {
        let portctl = "ip netns exec \(pair.server) \(TestPaths.binary("portctl").path)"
        let result = try runProcess(
            SystemTestGate.find("unshare")!, ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", "PORTCTL='\(portctl)'\n" + script],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"], timeout: timeout)
        return result.stdout + result.stderr
    }

    /// The state directory turns read-only while a change awaits confirmation: the watchdog still
    /// rolls it back at the deadline (flock works on a read-only descriptor), and the apply says
    /// what happened from the kernel.
    func testAStateDirectoryThatTurnsReadOnlyStillRollsBack() throws {
        let mount = stateDirectory + "-ro"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let before = try ruleset()
        let output = try inPrivateMounts("""
            mount -t tmpfs -o size=4m tmpfs \(mount)
            $PORTCTL apply dss --conflict-root \(TestPaths.emptyRoot) --confirm 2 -q --state-dir \(mount)/state < /dev/null > \(mount)/../ro-out.$$ 2>&1 &
            apply=$!
            sleep 1
            mount -o remount,ro \(mount)
            wait $apply; echo "APPLY $?"
            cat \(mount)/../ro-out.$$; rm -f \(mount)/../ro-out.$$
            umount \(mount)
            """)
        XCTAssertTrue(output.contains("APPLY 3"), output)
        XCTAssertTrue(output.contains("not confirmed in time: generation 1 was rolled back"), output)
        XCTAssertEqual(try ruleset(), before, "rolled back although nothing could be recorded")
    }

    /// The disk fills while a change awaits confirmation: the rollback is recorded once, and
    /// `current` says what the kernel holds (it was staged at apply time, and only renamed).
    func testAFullDiskRecordsTheRollbackOnceAndRight() throws {
        let mount = stateDirectory + "-full"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let output = try inPrivateMounts("""
            mount -t tmpfs -o size=2m tmpfs \(mount)
            $PORTCTL apply dss --conflict-root \(TestPaths.emptyRoot) -q --state-dir \(mount)/state
            $PORTCTL apply dss --conflict-root \(TestPaths.emptyRoot) --port80 --confirm 2 -q --state-dir \(mount)/state < /dev/null > /dev/null 2>&1 &
            apply=$!
            sleep 1
            dd if=/dev/zero of=\(mount)/fill bs=4k 2>/dev/null
            wait $apply; echo "APPLY $?"
            echo "ROLLBACKS $(grep -c '"auto-rollback"' \(mount)/state/history.jsonl)"
            echo "CURRENT $(cat \(mount)/state/current)"
            umount \(mount)
            """)
        XCTAssertTrue(output.contains("APPLY 3"), output)
        XCTAssertTrue(output.contains("ROLLBACKS 1\n") || output.contains("ROLLBACKS 0\n"), "recorded at most once: \(output)")
        XCTAssertTrue(output.contains("CURRENT 1\n"), "current names the generation the kernel holds: \(output)")
    }

    /// Killed after the boot copy went into place: the next portctl finishes the record (finishing
    /// is idempotent), and a rollback then goes to the generation before, not to nothing.
    func testAnApplyKilledAfterItsBootCopyIsFinishedByTheNextPortctl() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let first = try ruleset()
        let killed = try portctl(["apply", "dss", "--port80", "--persist", "-q", "--fault", "finalize.persisted=kill"])
        XCTAssertEqual(killed.status, 9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stateDirectory + "/journal.json"), "killed with its journal left")
        let confirm = try portctl(["confirm"])
        XCTAssertTrue(confirm.stderr.contains("recorded generation 2 (apply), which an interrupted portctl had committed"), confirm.stderr)
        XCTAssertEqual(try String(contentsOfFile: stateDirectory + "/current", encoding: .utf8), "2\n")
        XCTAssertEqual(try portctl(["rollback"]).status, 0)
        XCTAssertEqual(try ruleset(), first, "back to generation 1")
    }

    /// Killed after its journal, then the ruleset is flushed (a reload, or a restart without
    /// --persist): the journal is not taken for a commit, and the next apply really applies.
    func testAFlushedRulesetIsNeverTakenForAnInterruptedCommit() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        XCTAssertEqual(try portctl(["apply", "dss", "--port80", "-q", "--fault", "apply.journal-written=kill"]).status, 9)
        XCTAssertEqual(try pair.run(in: pair.server, ["nft", "flush", "ruleset"]).status, 0)
        let again = try portctl(["apply", "dss", "--port80", "-q"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("neither as before nor as intended"), again.stderr)
        XCTAssertTrue(again.stdout.hasPrefix("applied generation 3"), "not 'no change': \(again.stdout)")
        XCTAssertTrue(try ruleset().contains("dss/rtsp-http"))
    }

    /// `rollback --to` the very generation that awaits confirmation would keep it without a
    /// confirmation: refused, pointing to `confirm`.
    func testRollingBackToThePendingGenerationIsRefused() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let apply = try Launched(
            in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--port80", "--confirm", "20", "-q", "--state-dir", stateDirectory])
        defer { apply.stop() }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !pendingExists { usleep(50_000) }
        let refused = try portctl(["rollback", "--to", "2"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertEqual(
            refused.stderr,
            "portctl: error: --to: generation 2 is the change awaiting confirmation; keep it with 'portctl confirm', or decline it with 'portctl rollback'\n")
        XCTAssertEqual(try portctl(["rollback"]).status, 0)
        XCTAssertEqual(apply.wait(), 3)
        XCTAssertTrue(apply.output().contains("generation 2 was rolled back: declined by portctl rollback"), apply.output())
    }

    /// The generation a rollback would restore cannot be read: apply --confirm refuses before the
    /// change; and if it becomes unreadable while the change waits, the watchdog takes portctl's
    /// rules out rather than leave an unconfirmed change live.
    func testAnUnreadableRestorePointNeverLeavesAnUnconfirmedChangeLive() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let declaration = stateDirectory + "/generations/1/declaration.json"
        let saved = try Data(contentsOf: URL(fileURLWithPath: declaration))
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: declaration))
        let refused = try portctl(["apply", "dss", "--port80", "--confirm", "2", "-q"])
        XCTAssertEqual(refused.status, 73)
        XCTAssertTrue(refused.stderr.contains("generation 1, which a rollback would restore, cannot be read"), refused.stderr)
        try saved.write(to: URL(fileURLWithPath: declaration))

        let apply = try Launched(
            in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--port80", "--confirm", "2", "-q", "--state-dir", stateDirectory])
        let armed = Date().addingTimeInterval(10)
        while Date() < armed, !pendingExists { usleep(50_000) }
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: declaration))
        XCTAssertEqual(apply.wait(), 3, apply.output())
        XCTAssertFalse(try ruleset().contains("table inet portctl"), "the unconfirmed change is not left live")
        let history = try portctl(["history", "--json"]).stdout
        XCTAssertTrue(history.contains("so portctl's rules were taken out instead"), history)
    }

    // MARK: - Item 10: a table another process owns

    func testATableOwnedByAnotherProcessIsNamedAsSuch() throws {
        // nft -i keeps its netlink socket, and so owns the table, until it exits.
        let holder = try Launched(in: pair.server, ["nft", "-i"], input: "add table inet portctl { flags owner ; }\n")
        defer {
            holder.stop()
            holder.wait()
        }
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline, !(try ruleset().contains("table inet portctl")) { usleep(50_000) }
        let apply = try portctl(["apply", "dss", "-q"])
        XCTAssertEqual(apply.status, 77)
        XCTAssertEqual(
            apply.stderr,
            "portctl: error: permission denied: table inet portctl is owned by another process (nft) that holds it with nft's 'flags owner'; no other program, root included, may change it until that process exits\n")
    }
}
