import CommandSupport
import Foundation
import TestSupport
import XCTest

/// One version, written once (ToolVersion): `--version`, the man pages and the Debian changelog
/// must all say it.
final class VersionTests: XCTestCase {
    func testTheManPagesAndTheChangelogNameTheVersion() throws {
        for page in ["man/portctl.8", "man/streamd.8", "man/portctl-profile.5"] {
            let text = try String(contentsOf: TestPaths.repository.appendingPathComponent(page), encoding: .utf8)
            let header = text.split(separator: "\n").first { $0.hasPrefix(".TH ") } ?? ""
            XCTAssertTrue(header.contains("\"portctl \(ToolVersion.current)\""), "\(page): \(header)")
        }
        let changelog = try String(contentsOf: TestPaths.repository.appendingPathComponent("packaging/changelog"), encoding: .utf8)
        XCTAssertTrue(changelog.hasPrefix("portctl (\(ToolVersion.current)-"), String(changelog.prefix(40)))
    }
}
