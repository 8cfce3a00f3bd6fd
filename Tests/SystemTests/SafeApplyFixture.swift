import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// What the safe-apply system tests share: a namespace pair, a state directory, and helpers to run
/// portctl and read the ruleset in the server namespace.
class SafeApplyFixture: XCTestCase {
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
        try pair.run(
            in: pair.server, [TestPaths.binary("portctl").path] + arguments + ["--state-dir", state ?? stateDirectory],
            environment: environment)
    }

    func ruleset() throws -> String {
        try pair.run(in: pair.server, ["nft", "-s", "list", "ruleset"]).stdout
    }

    /// `portctl ARGUMENTS` in the server namespace under `strace -f OPTIONS`: the lines strace
    /// wrote, in order, and portctl's result. Skips when strace is missing.
    func straced(_ options: [String], _ arguments: [String]) throws -> ([String], ProcessResult) {
        guard SystemTestGate.find("strace") != nil else {
            throw XCTSkip("strace is not installed (scripts/install-deps --test installs it)")
        }
        let trace = stateDirectory + "-strace"
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let result = try pair.run(
            in: pair.server,
            ["strace", "-f", "-o", trace] + options + [TestPaths.binary("portctl").path] + arguments + ["--state-dir", stateDirectory])
        return (try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init), result)
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

    /// Runs `script` in private mount and a shell; `$PORTCTL` runs portctl in the server namespace.
    func inPrivateMounts(_ script: String, timeout: TimeInterval = 90) throws -> String {
        let portctl = "ip netns exec \(pair.server) \(TestPaths.binary("portctl").path)"
        let result = try runProcess(
            SystemTestGate.find("unshare")!,
            ["--mount", "--propagation", "private", "--", "/bin/sh", "-c", "PORTCTL='\(portctl)'\n" + script],
            environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"], timeout: timeout)
        return result.stdout + result.stderr
    }
}
