import Foundation
import TestSupport
import XCTest

/// The bad-input corpus: every malformed profile and flag value gets one clear error line,
/// naming the file:line:column or the flag, and a documented exit code.
final class CorpusTests: XCTestCase {
    static let corpus = HostileCorpus.profileDirectory

    static let profileCases = HostileCorpus.profileCases

    func testEveryCorpusFileHasAnExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { $0.hasSuffix(".yaml") }
        let expected = Set(Self.profileCases.keys).union(["overlap-warning.yaml"])
        XCTAssertEqual(Set(files), expected)
        XCTAssertGreaterThanOrEqual(Self.profileCases.count, 40, "issue 11: at least 40 hostile profiles")
        XCTAssertGreaterThanOrEqual(HostileCorpus.flagCases.count, 60, "issue 11: at least 60 bad flag values")
    }

    func testMalformedProfilesGetOneExactError() throws {
        for (file, (status, message)) in Self.profileCases.sorted(by: { $0.key < $1.key }) {
            let path = Self.corpus.appendingPathComponent(file).path
            let result = try portctl(["profiles", "check", path])
            XCTAssertEqual(result.status, status, file)
            XCTAssertEqual(result.stderr, message.replacingOccurrences(of: "FILE", with: path) + "\n", file)
            XCTAssertEqual(result.stdout, "", file)
        }
    }

    func testOverlapWarnsAndStrictMakesItAnError() throws {
        let path = Self.corpus.appendingPathComponent("overlap-warning.yaml").path
        let warning = "\(path):10:13: warning: opening 'rtsp2' opens 500-600/tcp, which overlaps 554/tcp of opening 'rtsp' (line 5)\n"
        let relaxed = try portctl(["profiles", "check", path])
        XCTAssertEqual(relaxed.status, 0)
        XCTAssertEqual(relaxed.stderr, warning)
        let strict = try portctl(["profiles", "check", "--strict", path])
        XCTAssertEqual(strict.status, 65)
        XCTAssertEqual(strict.stderr, warning.replacingOccurrences(of: "warning:", with: "error:"))
    }

    /// Generated, too big to keep in the repository: a profile name of a megabyte is echoed cut
    /// short, and a file over the 1 MiB limit is refused before it is parsed.
    func testHugeInputIsRefusedAndNotEchoedWhole() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-huge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let name = String(repeating: "n", count: 1_000_000)
        let named = directory.appendingPathComponent("named.yaml")
        try "name: \(name)\ntitle: t\nsource: s\nopenings:\n  - id: a\n    purpose: p\n    ports: [554/tcp]\n".write(
            to: named, atomically: true, encoding: .utf8)
        let result = try portctl(["profiles", "check", named.path])
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(
            result.stderr,
            "\(named.path):1:7: error: profile name '\(String(repeating: "n", count: 80))...' is not valid (lowercase letters, digits and '-', starting with a letter or digit, at most 32 characters)\n"
        )
        let big = directory.appendingPathComponent("big.yaml")
        try ("name: big\ndescription: |\n" + String(repeating: "  padding padding padding padding\n", count: 40_000)).write(
            to: big, atomically: true, encoding: .utf8)
        let refused = try portctl(["profiles", "check", big.path])
        XCTAssertEqual(refused.status, 65)
        XCTAssertTrue(refused.stderr.hasPrefix("\(big.path):1:1: error: the file is 1"), refused.stderr)
        XCTAssertTrue(refused.stderr.hasSuffix("bytes; a profile may be at most 1048576 bytes (1 MiB)\n"), refused.stderr)
    }

    /// A profile of a megabyte that is valid is checked, not refused, and promptly: the bound on
    /// aliases is not a bound on honest size. (bench/profiles.sh measures the time.)
    func testAMegabyteOfHonestProfileIsChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-mega-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var text = "name: mega\ntitle: Many openings\nsource: generated\nopenings:\n"
        var index = 0
        while text.utf8.count < 1_000_000 {
            text += "  - id: o\(index)\n    purpose: opening \(index)\n    ports: [\(1000 + index % 60000)/tcp]\n"
            index += 1
        }
        let file = directory.appendingPathComponent("mega.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let result = try portctl(["profiles", "check", file.path])
        XCTAssertEqual(result.status, 0, String(result.stderr.prefix(500)))
        XCTAssertTrue(result.stdout.hasSuffix("ok (mega, \(index) openings)\n"), result.stdout)
    }

    func testMissingFileIsNoInput() throws {
        let result = try portctl(["profiles", "check", "/nonexistent/x.yaml"])
        XCTAssertEqual(result.status, 66)
        XCTAssertEqual(result.stderr, "portctl: error: /nonexistent/x.yaml does not exist\n")
    }

    func testBadFlagValuesGetOneExactError() throws {
        for item in HostileCorpus.flagCases {
            // A bad value for a command that changes things runs where, accepted, it could do no harm.
            let changing = item.arguments.first.map(changingCommands.contains) ?? false
            let result = changing ? try portctlIsolated(item.arguments) : try portctl(item.arguments)
            XCTAssertEqual(result.status, item.status, item.arguments.joined(separator: " "))
            let firstLine = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
            XCTAssertEqual(firstLine, item.message, item.arguments.joined(separator: " "))
            XCTAssertEqual(result.stdout, "", item.arguments.joined(separator: " "))
        }
    }

    /// A broken profile in a profile directory stops `plan` with its file:line.
    func testPlanNamesTheBadFileInAProfileDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-corpus-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try String(contentsOf: Self.corpus.appendingPathComponent("seed-typo-65635.yaml"), encoding: .utf8)
        try source.write(to: directory.appendingPathComponent("bad.yaml"), atomically: true, encoding: .utf8)
        let result = try portctl(["plan", "bad", "--profile-dir", directory.path])
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(
            result.stderr,
            """
            \(directory.path)/bad.yaml:7:13: error: opening 'broadcast': port 65635 is out of range (1-65535); the seed document's "10000-65635" is a typo for 65535
            portctl: error: profile 'bad' is invalid

            """)
    }
}
