import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// Recovery and refusals found by the adversarial review of the safe-apply order, and a table
/// another process owns (issue 11).
final class RecoverySystemTests: SafeApplyFixture {
    // MARK: - Found by the adversarial review of the new order

    /// The state directory turns read-only while a change awaits confirmation: the watchdog still
    /// rolls it back at the deadline (flock works on a read-only descriptor), and the apply says
    /// what happened from the kernel.
    func testAStateDirectoryThatTurnsReadOnlyStillRollsBack() throws {
        let mount = stateDirectory + "-ro"
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: mount) }
        let before = try ruleset()
        let output = try inPrivateMounts(
            """
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
        let output = try inPrivateMounts(
            """
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
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply", "dss", "--port80", "--confirm", "20", "-q", "--state-dir", stateDirectory])
        defer { apply.stop() }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !pendingExists { usleep(50_000) }
        let refused = try portctl(["rollback", "--to", "2"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertEqual(
            refused.stderr,
            "portctl: error: --to: generation 2 is the change awaiting confirmation; keep it with 'portctl confirm', or decline it with 'portctl rollback'\n"
        )
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
            in: pair.server,
            [TestPaths.binary("portctl").path, "apply", "dss", "--port80", "--confirm", "2", "-q", "--state-dir", stateDirectory])
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
            "portctl: error: permission denied: table inet portctl is owned by another process (nft) that holds it with nft's 'flags owner'; no other program, root included, may change it until that process exits\n"
        )
    }
}
