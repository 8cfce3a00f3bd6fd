import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// The confirm watchdog's promise, looped under CPU load: `apply --confirm 1` with one fault per
/// run (a kill or a delay, at a step picked at random from every step the promise depends on), and
/// sometimes a `portctl confirm` at a random moment. After every run:
///
/// - the new ruleset is not live past its deadline (plus a grace for a loaded scheduler) unless a
///   confirmation was accepted, and then it is still live;
/// - the outcome line the apply printed (when it lived to print one) is what happened;
/// - nothing is left pending, and the next apply is not blocked.
///
/// Faults come as the hidden `--fault` and `--fault-once` options (portctl(8), TESTING HOOKS).
/// PORTCTL_FAULT_LOOP (read by this test, not by portctl) sets the number of runs (default 20; scripts/fault-loop runs 200).
final class ConfirmFaultLoopSystemTests: XCTestCase {
    var pair: NamespacePair!
    var stateDirectory: String!
    var load: [Launched] = []

    static let steps = [
        "apply.locked", "apply.watchdog-spawned", "apply.generation-written", "apply.journal-written", "apply.pending-written",
        "apply.committed", "finalize.durable", "finalize.recorded", "apply.finalized", "apply.unlocked", "watchdog.started",
        "watchdog.armed",
        "watchdog.deadline", "watchdog.locked", "restore.journal-written", "restore.committed", "restore.finalized", "confirm.locked",
        "confirm.recorded",
    ]
    /// How late a rollback may be under load: the watchdog polls every 50 ms, then takes the lock
    /// and commits; two busy loops per core stretch that.
    static let grace = 3.0

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
        pair = try NamespacePair()
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-loop-\(UUID().uuidString)").path
        // CPU load: two busy loops per core, stopped by PID in tearDown.
        for _ in 0..<(2 * ProcessInfo.processInfo.activeProcessorCount) {
            load.append(try Launched(in: nil, ["/bin/sh", "-c", "i=0; while [ $i -lt 100000000 ]; do i=$((i+1)); done"]))
        }
    }

    override func tearDown() {
        for process in load { process.stop() }
        for process in load { process.wait(timeout: 5) }
        pair?.destroy()
        if let stateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    func portctl(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try pair.run(
            in: pair.server, [TestPaths.binary("portctl").path] + arguments + ["--state-dir", stateDirectory], environment: environment)
    }

    func ruleset() throws -> String {
        try pair.run(in: pair.server, ["nft", "-s", "list", "ruleset"]).stdout
    }

    func testTheWatchdogKeepsItsPromiseUnderFaultsAndLoad() throws {
        let runs = Int(ProcessInfo.processInfo.environment["PORTCTL_FAULT_LOOP"] ?? "") ?? 20
        var generator = SeededRandom(seed: UInt64(ProcessInfo.processInfo.environment["PORTCTL_FAULT_SEED"] ?? "") ?? 11)
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let before = try ruleset()
        var worstLateness = 0.0
        var tally: [String: Int] = [:]
        for run in 0..<runs {
            let step = Self.steps[Int(generator.next() % UInt64(Self.steps.count))]
            let kill = generator.next() % 10 < 4
            let action = kill ? "kill" : "delay:\(generator.next() % 400)"
            let confirmAt: Double? = generator.next() % 10 < 4 ? Double(generator.next() % 1400) / 1000 : nil
            let once = stateDirectory + "-once-\(run)"
            defer { unlink(once) }
            let fault = ["--fault", "\(step)=\(action)", "--fault-once", once]
            let label = "run \(run): \(step)=\(action)" + (confirmAt.map { ", confirm at \($0)s" } ?? "")

            let started = Date()
            let apply = try Launched(
                in: pair.server,
                [TestPaths.binary("portctl").path, "apply", "dss", "--port80", "--confirm", "1", "-q", "--state-dir", stateDirectory]
                    + fault)
            var confirmed = false
            if let confirmAt {
                usleep(UInt32(confirmAt * 1_000_000))
                let confirm = try portctl(["confirm", "--wait", "30"] + fault)
                confirmed = confirm.status == 0 && confirm.stdout.hasPrefix("confirmed generation")
                if confirm.status == 9 { tally["confirm killed", default: 0] += 1 }
            }
            let status = apply.wait(timeout: 120)
            let output = apply.output()
            let deadline = started.addingTimeInterval(1)
            // A confirm killed after it recorded the confirmation has confirmed: the apply, which
            // reports the outcome recorded for its own change, says so.
            if !confirmed, status == 0, output.contains("confirmed generation") { confirmed = true }

            // Where the ruleset must end up, and by when.
            var restoredAt: Date?
            let limit = Date().addingTimeInterval(confirmed ? 1 : 10)
            while Date() < limit {
                let now = try ruleset()
                if !confirmed, now == before, !FileManager.default.fileExists(atPath: stateDirectory + "/pending.json") {
                    restoredAt = Date()
                    break
                }
                usleep(25_000)
            }
            if confirmed {
                XCTAssertNotEqual(try ruleset(), before, "\(label): a confirmed change stays: \(output)")
                if status != 9 { XCTAssertTrue(output.contains("confirmed generation"), "\(label): \(output)") }
                tally["confirmed", default: 0] += 1
            } else {
                guard let restoredAt else {
                    XCTFail("\(label): the new ruleset was still live 10 s after the apply ended (exit \(status)): \(output)")
                    break
                }
                // The ruleset was polled from the moment the apply ended; a rollback the apply
                // itself waited for happened before that, so lateness is at most what we saw.
                worstLateness = max(worstLateness, restoredAt.timeIntervalSince(deadline))
                XCTAssertLessThan(restoredAt.timeIntervalSince(deadline), Self.grace + 1, "\(label): rolled back late")
                switch status {
                case 9:
                    tally["apply killed", default: 0] += 1
                case 3:
                    XCTAssertTrue(
                        output.contains("not confirmed in time: generation") || output.contains("was rolled back"), "\(label): \(output)")
                    tally["rolled back", default: 0] += 1
                case 0:
                    XCTFail("\(label): apply said the change stayed, but it was rolled back: \(output)")
                default:
                    // Refused before the commit (busy, or a fault in the state): it must say so.
                    XCTAssertTrue(output.contains("nothing was changed") || output.contains("busy"), "\(label): exit \(status): \(output)")
                    tally["refused", default: 0] += 1
                }
            }
            // Settle, then put generation 1 back for the next run; nothing may be left blocking.
            let next = try portctl(["apply", "dss", "-q", "--wait", "30"])
            XCTAssertEqual(next.status, 0, "\(label): the next apply: \(next.stderr)")
            XCTAssertEqual(try ruleset(), before, "\(label)")
        }
        let history = try portctl(["history", "--json"]).stdout
        XCTAssertFalse(history.contains("auto-rollback-failed"), history)
        print(
            "fault loop: \(runs) runs, worst rollback lateness \(String(format: "%.3f", worstLateness)) s past the deadline; \(tally.sorted { $0.key < $1.key })"
        )
    }
}
