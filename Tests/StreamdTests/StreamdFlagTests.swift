import Foundation
import TestSupport
import XCTest

/// streamd's flags on the command line: a bad value is refused before anything is bound.
final class StreamdFlagTests: XCTestCase {
    func testSessionsMaxOutOfRangeIsAUsageError() throws {
        for value in ["0", "100001"] {
            let result = try runProcess(TestPaths.binary("streamd").path, ["dss", "--sessions-max", value])
            XCTAssertEqual(result.status, 64, value)
            XCTAssertTrue(result.stderr.contains("--sessions-max \(value): give a number from 1 to 100000"), result.stderr)
        }
    }

    func testAnEmptyOrBlankKeyFileIsAUsageErrorForStreamdAndTheProbe() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("streamd-key-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in [("empty", ""), ("blank", " \n")] {
            let path = folder.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]))
            let reason = name == "empty" ? "is empty" : "holds only whitespace"
            // streamd reads the key before binding anything; the probe before sending anything.
            let streamd = try runProcess(TestPaths.binary("streamd").path, ["dss", "--key", path])
            XCTAssertEqual(streamd.status, 64, streamd.stderr)
            XCTAssertEqual(streamd.stderr, "streamd: error: --key: '\(path)' \(reason); make one with: head -c 32 /dev/urandom > \(path)\n")
            let probe = try runProcess(TestPaths.binary("portctl").path, ["probe", "127.0.0.1", "--ports", "9/udp", "--key", path])
            XCTAssertEqual(probe.status, 64, probe.stderr)
            XCTAssertEqual(probe.stderr, "portctl: error: --key: '\(path)' \(reason); make one with: head -c 32 /dev/urandom > \(path)\n")
        }
    }
}
