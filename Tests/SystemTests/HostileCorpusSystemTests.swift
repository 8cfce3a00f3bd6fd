import Foundation
import TestSupport
import XCTest

/// The whole hostile corpus against a real kernel: every malformed or hostile profile, and every
/// bad flag value, given to `apply` (or to the command the case names) in a namespace where a
/// generation is live. Nothing may crash, hang, be accepted, or change the ruleset by one byte.
final class HostileCorpusSystemTests: XCTestCase {
    var pair: NamespacePair!
    var stateDirectory: String!
    var profiles: URL!

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft"]) { throw XCTSkip(reason) }
        pair = try NamespacePair()
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-corpus-\(UUID().uuidString)").path
        profiles = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-corpus-profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profiles, withIntermediateDirectories: true)
    }

    override func tearDown() {
        pair?.destroy()
        if let stateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
        if let profiles { try? FileManager.default.removeItem(at: profiles) }
    }

    func ruleset() throws -> String {
        try pair.run(in: pair.server, ["nft", "-s", "list", "ruleset"]).stdout
    }

    /// Runs one case; returns its exit status, or nil when it did not finish within 20 s.
    func run(_ arguments: [String]) throws -> ProcessResult {
        try pair.run(in: pair.server, [TestPaths.binary("portctl").path] + arguments, timeout: 20)
    }

    static let stateCommands: Set<String> = ["apply", "confirm", "rollback", "remove", "status", "history"]

    func testNothingHostileIsAcceptedOrChangesTheRuleset() throws {
        XCTAssertEqual(try run(["apply", "dss", "-q", "--state-dir", stateDirectory]).status, 0)
        let before = try ruleset()
        var tried = 0
        var outcomes: [Int32: Int] = [:]
        func check(_ arguments: [String], label: String) throws {
            let started = Date()
            let result = try run(arguments)
            let seconds = Date().timeIntervalSince(started)
            tried += 1
            outcomes[result.status, default: 0] += 1
            XCTAssertLessThan(seconds, 10, "\(label): no hang")
            XCTAssertTrue(
                [64, 65, 66].contains(result.status),
                "\(label): refused with a documented status, not \(result.status): \(result.stderr.prefix(300))")
            XCTAssertFalse(result.stderr.contains("Fatal error"), "\(label): \(result.stderr.prefix(300))")
            XCTAssertEqual(try ruleset(), before, "\(label): the ruleset is byte-identical")
        }
        // Every corpus profile, applied by name from a profile directory.
        let files = try FileManager.default.contentsOfDirectory(atPath: HostileCorpus.profileDirectory.path).filter {
            $0.hasSuffix(".yaml")
        }
        for file in files.sorted() where HostileCorpus.profileCases[file] != nil {
            let stem = String(file.dropLast(5))
            let target = profiles.appendingPathComponent(file)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: HostileCorpus.profileDirectory.appendingPathComponent(file), to: target)
            try check(["apply", stem, "--profile-dir", profiles.path, "-q", "--state-dir", stateDirectory], label: file)
            try FileManager.default.removeItem(at: target)
        }
        // Every bad flag value; a plan's flags are given to apply.
        for item in HostileCorpus.flagCases {
            var arguments = item.arguments
            if arguments.first == "plan" { arguments[0] = "apply" }
            if let command = arguments.first, Self.stateCommands.contains(command), !arguments.contains("--state-dir") {
                arguments += ["--state-dir", stateDirectory]
            }
            try check(arguments, label: arguments.joined(separator: " "))
        }
        XCTAssertGreaterThanOrEqual(tried, 100)
        XCTAssertEqual(outcomes[0], nil, "nothing was accepted")
        print("hostile corpus: \(tried) cases, exit statuses \(outcomes.sorted { $0.key < $1.key })")
    }
}
