import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// portctl apply against a real kernel: a server and a client namespace over a veth pair, the
/// server's firewall set by portctl, real packets from the client. Nothing touches the host.
final class ApplySystemTests: ApplyNamespaceTestCase {
    func testDSSPlanOpensExactlyItsPortsBetweenNamespaces() throws {
        let ports = ["554/tcp", "7070/tcp", "8000/tcp", "1220/tcp", "9999/tcp", "6970/udp", "6999/udp", "7000/udp"]
        try listen(ports)
        let before = try reach(ports)
        XCTAssertEqual(before["9999/tcp"], "open", "without a firewall everything answers: \(before)")

        let apply = try portctl(["apply", "dss", "--admin-from", NamespacePair.clientAddress, "-q"])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        let after = try reach(ports)
        XCTAssertEqual(after["554/tcp"], "open")
        XCTAssertEqual(after["7070/tcp"], "open")
        XCTAssertEqual(after["8000/tcp"], "open")
        XCTAssertEqual(after["1220/tcp"], "open", "the admin port admits the declared admin source")
        XCTAssertEqual(after["6970/udp"], "open")
        XCTAssertEqual(after["6999/udp"], "open")
        XCTAssertEqual(after["9999/tcp"], "filtered", "a port outside the plan is dropped")
        XCTAssertEqual(after["7000/udp"], "filtered", "a UDP port outside the plan is dropped")

        let other = try reach(["1220/tcp", "554/tcp"], from: NamespacePair.otherClientAddress)
        XCTAssertEqual(other["1220/tcp"], "filtered", "the admin port refuses other sources")
        XCTAssertEqual(other["554/tcp"], "open")

        let status = try portctl(["status", "--json"])
        XCTAssertEqual(status.status, 0, status.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        let openings = json["openings"] as! [[String: Any]]
        let rtsp = try XCTUnwrap(openings.first { $0["ports"] as? String == "554" })
        XCTAssertGreaterThan(rtsp["packets"] as? Int ?? 0, 0, "each opening has its own counter")
    }

    func testReapplyIsANoOpAndRollbackRestoresTheRulesetExactly() throws {
        let empty = try ruleset()
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let generationOne = try ruleset()
        let first = try pair.run(in: pair.server, ["nft", "-a", "list", "table", "inet", "portctl"]).stdout
        let again = try portctl(["apply", "dss"])
        XCTAssertEqual(again.status, 0)
        XCTAssertTrue(again.stdout.contains("no change"), again.stdout)
        XCTAssertEqual(
            try pair.run(in: pair.server, ["nft", "-a", "list", "table", "inet", "portctl"]).stdout, first,
            "a no-op writes nothing: handles are unchanged")

        XCTAssertEqual(try portctl(["apply", "dss", "--port80", "-q"]).status, 0)
        let second = try ruleset()
        XCTAssertTrue(second.contains("dss/rtsp-http"), second)
        XCTAssertEqual(try portctl(["rollback"]).status, 0)
        XCTAssertEqual(try ruleset(), generationOne, "rollback restores generation 1 exactly")
        XCTAssertEqual(try portctl(["rollback"]).status, 0)
        XCTAssertEqual(try ruleset(), empty, "apply + rollback leaves the ruleset as it was")

        let history = try portctl(["history", "--json"])
        let events = (try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as! [String: Any])["events"] as! [[String: Any]]
        XCTAssertEqual(events.map { $0["event"] as! String }, ["apply", "apply", "rollback", "rollback"])
    }

    /// A no-op re-apply sends the kernel nothing at all, as `nft monitor` (which prints every
    /// commit, "# new generation N") shows: between two marker tables the monitor sees only them.
    func testANoOpReapplyCommitsNothingAsNftMonitorSees() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-monitor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: log) }
        _ = try pair.start(in: pair.server, ["sh", "-c", "exec stdbuf -oL nft monitor > '\(log.path)'"])
        func waitFor(_ text: String, seconds: Double = 5) -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var seen = ""
            while Date() < deadline {
                seen = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if seen.contains(text) { break }
                usleep(20_000)
            }
            return seen
        }
        // The monitor is listening once it shows the first marker (retried: it may start late).
        var listening = false
        for attempt in 0..<20 where !listening {
            // A new table each time: adding one that exists commits nothing the monitor would show.
            _ = try pair.run(in: pair.server, ["nft", "add", "table", "inet", "marker_a\(attempt)"])
            listening = waitFor("marker_a\(attempt)", seconds: 0.5).contains("marker_a\(attempt)")
        }
        XCTAssertTrue(listening, "nft monitor never showed the first marker")
        let again = try portctl(["apply", "dss"])
        XCTAssertTrue(again.stdout.contains("no change"), again.stdout + again.stderr)
        _ = try pair.run(in: pair.server, ["nft", "add", "table", "inet", "marker_b"])
        let seen = waitFor("marker_b")
        let afterA = seen.components(separatedBy: "marker_a").last?.drop { $0 != "\n" } ?? "?"
        let between = afterA.components(separatedBy: "add table inet marker_b").first ?? "?"
        XCTAssertTrue(seen.contains("marker_b"), seen)
        XCTAssertEqual(
            between.split(separator: "\n").filter { !$0.hasPrefix("# new generation") }, [],
            "nothing but the markers' own generations: \(seen)")
        XCTAssertEqual(between.split(separator: "\n").filter { $0.hasPrefix("# new generation") }.count, 1, "marker_a's only: \(seen)")
    }

    func testUnconfirmedChangeRollsBackEvenWhenTheApplyIsKilled() throws {
        let before = try ruleset()
        let apply = try pair.start(
            in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "3", "-q", "--state-dir", stateDirectory])
        let applied = Date().addingTimeInterval(5)
        while Date() < applied, !(try ruleset().contains("table inet portctl")) { usleep(100_000) }
        XCTAssertTrue(try ruleset().contains("table inet portctl"))
        kill(apply.processIdentifier, SIGKILL)
        apply.waitUntilExit()

        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, try ruleset() != before { usleep(200_000) }
        XCTAssertEqual(try ruleset(), before, "the watchdog rolled back without the applying process")
        let history = try portctl(["history", "--json"]).stdout
        XCTAssertTrue(history.contains("auto-rollback"), history)
    }

    func testConfirmKeepsTheChange() throws {
        let apply = try pair.start(
            in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "--confirm", "20", "-q", "--state-dir", stateDirectory])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !FileManager.default.fileExists(atPath: stateDirectory + "/pending.json") { usleep(100_000) }
        let confirm = try portctl(["confirm"])
        XCTAssertEqual(confirm.status, 0, confirm.stderr)
        apply.waitUntilExit()
        XCTAssertEqual(apply.terminationStatus, 0)
        XCTAssertTrue(try ruleset().contains("table inet portctl"))
        XCTAssertEqual(try portctl(["confirm"]).status, 1, "nothing left to confirm")
    }

    func testAttachModeOpensPortsUnderAnExistingDropPolicy() throws {
        try listen(["554/tcp", "6970/udp", "9999/tcp"])
        for command in [
            ["nft", "add", "table", "inet", "filter"],
            ["nft", "add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy drop; }"],
            ["nft", "add", "rule", "inet", "filter", "input", "tcp", "dport", "22", "accept"],
        ] {
            XCTAssertEqual(try pair.run(in: pair.server, command).status, 0)
        }
        XCTAssertEqual(try reach(["554/tcp"])["554/tcp"], "filtered")
        let apply = try portctl(["apply", "dss", "--attach", "inet filter input", "-q"])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        XCTAssertEqual(
            try portctl(["apply", "dss", "--attach", "inet filter input"]).stdout.contains("no change"), true, "attach is idempotent")
        let verdicts = try reach(["554/tcp", "6970/udp", "9999/tcp"])
        XCTAssertEqual(verdicts["554/tcp"], "open")
        XCTAssertEqual(verdicts["6970/udp"], "open")
        XCTAssertEqual(verdicts["9999/tcp"], "filtered")
        let listing = try ruleset()
        XCTAssertEqual(listing.components(separatedBy: "jump portctl").count - 1, 1, "exactly one jump")

        XCTAssertEqual(try portctl(["remove"]).status, 0)
        XCTAssertEqual(
            try ruleset(),
            """
            table inet filter {
            \tchain input {
            \t\ttype filter hook input priority filter; policy drop;
            \t\ttcp dport 22 accept
            \t}
            }

            """, "remove takes out the chain, its sets and the jump, and nothing else")
    }

    func testARejectedBatchLeavesTheRulesetByteIdentical() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let before = try ruleset(stateless: false)
        let failed = try portctl(["apply", "dss", "--port80", "-q", "--fault", "kernel.commit=fail"])
        XCTAssertEqual(failed.status, 1)
        XCTAssertTrue(failed.stderr.contains("the kernel rejected the change, and nothing was changed"), failed.stderr)
        XCTAssertEqual(try ruleset(stateless: false), before)
        XCTAssertEqual(try portctl(["status"]).status, 0, "state still says generation 1, with no drift")
    }

    func testTwentyConcurrentAppliesEndConsistent() throws {
        let binary = TestPaths.binary("portctl").path
        var processes: [(Process, Pipe)] = []
        for index in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: SystemTestGate.find("ip")!)
            let extra = index % 2 == 0 ? ["--port80"] : []
            let wait = index % 4 == 0 ? "0" : "30"
            process.arguments =
                ["netns", "exec", pair.server, binary, "apply", "dss", "-q", "--wait", wait, "--state-dir", stateDirectory] + extra
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            processes.append((process, errors))
        }
        var busy = 0
        for (process, errors) in processes {
            process.waitUntilExit()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertTrue([0, 75].contains(process.terminationStatus), "exit \(process.terminationStatus): \(stderr)")
            if process.terminationStatus == 75 {
                busy += 1
                XCTAssertTrue(stderr.contains("busy"), stderr)
            } else {
                XCTAssertFalse(stderr.contains("error"), stderr)
            }
        }
        let status = try portctl(["status", "--json"])
        XCTAssertEqual(status.status, 0, "one consistent state, no drift: \(status.stdout)")
        let json = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((json["drift"] as? [String: Any])?["added"] as? [String], [])
        XCTAssertLessThanOrEqual(busy, 20)
    }

    func testDriftAndOtherTableDropsAreReported() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        XCTAssertEqual(
            try pair.run(in: pair.server, ["nft", "add", "rule", "inet", "portctl", "input", "tcp", "dport", "4444", "accept"]).status, 0)
        XCTAssertEqual(try pair.run(in: pair.server, ["nft", "add", "table", "ip", "blocker"]).status, 0)
        XCTAssertEqual(
            try pair.run(
                in: pair.server,
                ["nft", "add", "chain", "ip", "blocker", "input", "{ type filter hook input priority 10; policy accept; }"]
            ).status, 0)
        XCTAssertEqual(
            try pair.run(in: pair.server, ["nft", "add", "rule", "ip", "blocker", "input", "tcp", "dport", "7070", "drop"]).status, 0)
        let status = try portctl(["status"])
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.stdout.contains("Drift: the live rules differ from generation 1"), status.stdout)
        XCTAssertTrue(status.stdout.contains("4444"), status.stdout)
        XCTAssertTrue(status.stdout.contains("ipv4: blocked by ip blocker/input (rule"), status.stdout)
        let doctor = try portctl(["doctor"])
        XCTAssertEqual(doctor.status, 1)
        XCTAssertTrue(doctor.stdout.contains("fail  drift"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("7070/tcp (ipv4) dss/rtsp: blocked by ip blocker/input"), doctor.stdout)
        // Re-applying repairs the drift.
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        XCTAssertFalse(try ruleset().contains("4444"))
    }

    func testLockoutGuardRefusesToCutOffTheSession() throws {
        let session = ["SSH_CONNECTION": "\(NamespacePair.clientAddress) 50000 \(server) 2222"]
        let refused = try portctl(["apply", "dss", "--no-ssh-guard", "-q"], environment: session)
        XCTAssertEqual(refused.status, 4)
        XCTAssertTrue(refused.stderr.contains("refusing to apply"), refused.stderr)
        XCTAssertEqual(try ruleset(), "", "nothing was applied")
        let guarded = try portctl(["apply", "dss", "-q"], environment: session)
        XCTAssertEqual(guarded.status, 0, guarded.stderr)
        let listing = try ruleset()
        let guardLine = listing.split(separator: "\n").first { $0.contains("portctl ssh guard") } ?? ""
        XCTAssertTrue(guardLine.contains("2222"), "the session's port joins the SSH guard: \(listing)")
    }

    func testPersistWritesOnlyWhenAsked() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: stateDirectory).sorted()
        XCTAssertEqual(files, ["current", "generations", "history.jsonl", "lock"])
        XCTAssertEqual(try portctl(["apply", "dss", "--port80", "--persist", "-q"]).status, 0)
        let persisted = try String(contentsOfFile: stateDirectory + "/persist.json", encoding: .utf8)
        // The persisted batch restores the same ruleset on a fresh kernel.
        let fresh = try inFreshNetworkNamespace("nft -j -f \(stateDirectory!)/persist.json && nft -s list ruleset")
        XCTAssertEqual(fresh.status, 0, fresh.stderr)
        XCTAssertEqual(fresh.stdout, try ruleset())
        XCTAssertTrue(persisted.contains("dss/rtsp-http"))
        XCTAssertEqual(try portctl(["remove"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: stateDirectory + "/persist.json"))
    }
}
