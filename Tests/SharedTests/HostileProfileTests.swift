import XCTest

@testable import CommandSupport
@testable import FirewallState
@testable import HostInspection
@testable import KnockAuth
@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProbe
@testable import PortProfiles
@testable import StreamWire

/// What the profile decoder does with hostile bytes and YAML, before and instead of Yams.
final class HostileProfileTests: XCTestCase {
    func testAliasesAsKeysAreRefused() {
        let refusal = AliasGuard.check("a: &k x\n*k : y\n")
        XCTAssertEqual(refusal, AliasGuard.Refusal(line: 2, column: 1, message: "an alias (*k) cannot be a key; write the key out"))
    }

    func testAliasBombsAreRefusedBeforeTheyExpand() {
        var text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            text += "l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        let started = Date()
        let refusal = AliasGuard.check(text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "linear in the text, not in the expansion")
        XCTAssertEqual(refusal?.line, 5)
        XCTAssertTrue(
            refusal?.message.hasPrefix("aliases expand this file to more than 100000 nodes") ?? false, "\(String(describing: refusal))")
    }

    func testModestAliasesAreAllowed() {
        XCTAssertNil(AliasGuard.check("a: &p [554/tcp, 7070/tcp]\nb: *p\nc: *p\n"))
        XCTAssertNil(AliasGuard.check("no aliases at all: true\n"))
        XCTAssertNil(AliasGuard.check("text with a * star: and * more\n"))
    }

    func testInvalidUTF8IsReportedWhereItIs() {
        let bytes = Array("name: x\ntitle: ok\n".utf8) + [0x66, 0xC3] + Array(" broken\n".utf8)
        let result = ProfileDecoder.decode(data: bytes, file: "f.yaml")
        XCTAssertNil(result.profile)
        XCTAssertEqual(
            result.diagnostics.map(\.description),
            ["f.yaml:3:2: error: not valid UTF-8 (byte 0xc3 at offset 19); profiles must be UTF-8 text"])
    }

    func testLineSeparatorsAndBidiOverridesAreControlCharacters() {
        // YAML's own escapes for NEL, LS and PS (raw, YAML reads them as line breaks and folds them),
        // then bidirectional controls, ESC and DEL written raw.
        for written in ["\\N", "\\x85", "\\L", "\\P", "\u{202E}", "\u{2066}", "\u{1B}", "\u{7F}"] {
            let yaml = "name: x\ntitle: \"a\(written)b\"\nsource: s\nopenings:\n  - id: a\n    purpose: p\n    ports: [554/tcp]\n"
            let result = ProfileDecoder.decode(data: Array(yaml.utf8), file: "f.yaml")
            XCTAssertNil(result.profile, written)
            // libyaml itself refuses raw C0 controls and DEL; portctl refuses the rest.
            let expected =
                ["\u{1B}", "\u{7F}"].contains(written)
                ? "not valid YAML: control characters are not allowed (profiles must be UTF-8 text)" : "'title' contains control characters"
            XCTAssertEqual(result.diagnostics.first?.message, expected, written)
        }
        let folded = ProfileDecoder.decode(
            data: Array("name: x\ntitle: \"a\u{85}b\"\nsource: s\nopenings:\n  - id: a\n    purpose: p\n    ports: [554/tcp]\n".utf8),
            file: "f.yaml")
        XCTAssertEqual(folded.profile?.title, "a b", "a raw NEL is a YAML line break, folded to a space: nothing raw survives")
    }

    func testEchoedValuesAreCutAndEscaped() {
        XCTAssertEqual(Shown.value(String(repeating: "x", count: 100)), String(repeating: "x", count: 80) + "...")
        XCTAssertEqual(Shown.value("a\u{1B}[2Jb\nc"), "a\\u{1b}[2Jb\\u{a}c")
        XCTAssertEqual(Shown.value("caf\u{E9} \u{202E}x"), "caf\u{E9} \\u{202e}x")
    }
}
