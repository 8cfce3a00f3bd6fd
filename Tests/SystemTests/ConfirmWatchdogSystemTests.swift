import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// Issue 11, item 1: the confirm watchdog keeps its promise when apply or the watchdog is killed
/// or delayed at any step, and the outcome apply prints is its own change's.
final class ConfirmWatchdogSystemTests: SafeApplyFixture {
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

    /// The measurement, without any hook: SIGKILL to `apply --confirm` at moments from 0 to
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
        XCTAssertTrue(
            next.stderr.contains("generation 2 was not confirmed in time and its rollback timer had stopped: rolled back"), next.stderr)
        XCTAssertEqual(try ruleset(), before)
        let events = try portctl(["history", "--json"]).stdout
        XCTAssertTrue(events.contains("its rollback timer had stopped"), events)
    }

    /// An older auto-rollback in the history does not decide a later change's outcome.
    func testTheOutcomeIsTheOneOfThisChange() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "--confirm", "1", "-q"]).status, 3)
        let apply = try Launched(
            in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "20", "--state-dir", stateDirectory])
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
            in: pair.server,
            [
                TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "1", "-q", "--state-dir", stateDirectory, "--fault",
                "watchdog.deadline=delay:1500",
            ])
        usleep(1_600_000)
        let confirm = try portctl(["confirm"])
        XCTAssertEqual(confirm.status, 1)
        XCTAssertEqual(confirm.stderr, "portctl: error: too late: generation 1 passed its deadline and is being rolled back\n")
        XCTAssertEqual(apply.wait(), 3, apply.output())
        XCTAssertTrue(try settle(to: before, within: 3))
    }
}
