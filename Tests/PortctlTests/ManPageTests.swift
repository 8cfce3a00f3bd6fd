import Foundation
import TestSupport
import XCTest

/// The man pages are written by hand; these tests fail when a command or flag is missing from them.
final class ManPageTests: XCTestCase {
    struct Command: Decodable {
        let commandName: String
        let shouldDisplay: Bool?
        let arguments: [Argument]?
        let subcommands: [Command]?
    }

    struct Argument: Decodable {
        let names: [Name]?
        let kind: String
    }

    struct Name: Decodable {
        let kind: String
        let name: String
    }

    func commandTree() throws -> Command {
        let result = try binary(["--experimental-dump-help"])
        XCTAssertEqual(result.status, 0)
        struct Root: Decodable { let command: Command }
        return try JSONDecoder().decode(Root.self, from: Data(result.stdout.utf8)).command
    }

    func testEveryCommandAndFlagIsInPortctl8() throws {
        let page = try String(contentsOf: TestPaths.repository.appendingPathComponent("man/portctl.8"), encoding: .utf8)
        let unescaped = page.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\fB", with: "").replacingOccurrences(
            of: "\\fR", with: "")
        var missing: [String] = []
        func visit(_ command: Command, path: [String]) {
            if path.count > 1, !unescaped.contains(path.dropFirst().joined(separator: " ")) {
                missing.append("command \(path.joined(separator: " "))")
            }
            for argument in command.arguments ?? [] {
                for name in argument.names ?? [] where name.kind == "long" {
                    if ["help", "version", "experimental-dump-help"].contains(name.name) { continue }
                    if !unescaped.contains("--\(name.name)") { missing.append("--\(name.name) of \(path.joined(separator: " "))") }
                }
            }
            for sub in command.subcommands ?? [] where sub.commandName != "help" && sub.shouldDisplay != false {
                visit(sub, path: path + [sub.commandName])
            }
        }
        visit(try commandTree(), path: ["portctl"])
        XCTAssertEqual(missing, [], "man/portctl.8 is out of step with the commands")
    }

    func testEveryStreamdFlagIsInStreamd8() throws {
        let result = try runProcess(TestPaths.binary("streamd").path, ["--experimental-dump-help"])
        XCTAssertEqual(result.status, 0)
        struct Root: Decodable { let command: Command }
        let command = try JSONDecoder().decode(Root.self, from: Data(result.stdout.utf8)).command
        let page = try String(contentsOf: TestPaths.repository.appendingPathComponent("man/streamd.8"), encoding: .utf8)
        let unescaped = page.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\fB", with: "").replacingOccurrences(
            of: "\\fR", with: "")
        let hidden = ["help", "version", "experimental-dump-help", "cleanup-helper"]
        let missing = (command.arguments ?? []).flatMap { $0.names ?? [] }.filter { $0.kind == "long" && !hidden.contains($0.name) }
            .map(\.name).filter { !unescaped.contains("--\($0)") }
        XCTAssertEqual(missing, [], "man/streamd.8 is out of step with streamd's flags")
    }

    func testExitCodesAreDocumented() throws {
        let page = try String(contentsOf: TestPaths.repository.appendingPathComponent("man/portctl.8"), encoding: .utf8)
        XCTAssertTrue(page.contains(".SH EXIT STATUS"))
        for code in ["64", "65", "66", "70"] { XCTAssertTrue(page.contains(code), code) }
    }

    func testProfileFormatPageNamesEveryKey() throws {
        let page = try String(contentsOf: TestPaths.repository.appendingPathComponent("man/portctl-profile.5"), encoding: .utf8)
        for key in [
            "name", "title", "description", "source", "options", "sources", "openings", "id", "purpose", "ports", "service", "direction",
            "from", "when", "conflicts",
        ] {
            XCTAssertTrue(page.contains(".BR \(key) ") || page.contains(".B \(key)\n"), key)
        }
        // Every service a profile may name is documented.
        let services = try portctl(["profiles", "check", CorpusTests.corpus.appendingPathComponent("service-unknown.yaml").path]).stderr
        let list = try XCTUnwrap(services.components(separatedBy: "expected one of: ").last?.dropLast(2))
        for service in list.components(separatedBy: ", ") {
            XCTAssertTrue(page.contains(".B \(service.replacingOccurrences(of: "-", with: "\\-"))\n"), service)
        }
    }
}
