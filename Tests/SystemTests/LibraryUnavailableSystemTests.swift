import Foundation
import TestSupport
import XCTest

/// libnftables and OpenSSL are loaded when a command first needs them (issue 13). Where
/// libnftables cannot be loaded, a command that needs it says so, with exit status 69, and changes
/// nothing; one that does not need it works as before. Without OpenSSL, a TLS check says why it
/// could not run. A library is hidden by binding /dev/null over it in a mount namespace of the
/// test's own: the machine's own files are untouched.
final class LibraryUnavailableSystemTests: ApplyNamespaceTestCase {
    /// portctl in the server's network namespace and a private mount namespace where `library`
    /// reads as an empty file.
    func without(_ name: String, _ arguments: [String]) throws -> ProcessResult {
        let library = URL(fileURLWithPath: "/usr/lib/x86_64-linux-gnu/" + name).resolvingSymlinksInPath().path
        guard FileManager.default.fileExists(atPath: library) else { throw XCTSkip("no \(library) to hide on this machine") }
        let state = ["plan", "probe"].contains(arguments.first ?? "") ? [] : ["--state-dir", stateDirectory!]
        let words = ([TestPaths.binary("portctl").path] + TestPaths.testArguments(arguments) + state)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        return try pair.run(
            in: pair.server, ["unshare", "--mount", "--", "sh", "-c", "mount --bind /dev/null '\(library)' && exec \(words)"])
    }

    func withoutLibnftables(_ arguments: [String]) throws -> ProcessResult { try without("libnftables.so.1", arguments) }

    func testCommandsThatNeedItSayItCannotBeLoadedAndChangeNothing() throws {
        XCTAssertEqual(try portctl(["apply", "rtsp", "-q"]).status, 0)
        let before = try ruleset()
        XCTAssertTrue(before.contains("table inet portctl"), before)

        let apply = try withoutLibnftables(["apply", "dss", "-q"])
        XCTAssertEqual(apply.status, 69, apply.stdout + apply.stderr)
        XCTAssertTrue(apply.stderr.hasPrefix("portctl: error: cannot load libnftables ("), apply.stderr)
        XCTAssertEqual(apply.stdout, "", "no outcome is printed for a change that did not happen")
        XCTAssertTrue(apply.stderr.contains("; install libnftables1"), apply.stderr)
        XCTAssertEqual(try ruleset(), before, "nothing was changed")

        let status = try withoutLibnftables(["status"])
        XCTAssertEqual(status.status, 69, status.stdout + status.stderr)
        let remove = try withoutLibnftables(["remove"])
        XCTAssertEqual(remove.status, 69, remove.stdout + remove.stderr)
        XCTAssertEqual(try ruleset(), before, "nothing was removed")

        // A command that does not need it works without it.
        let plan = try withoutLibnftables(["plan", "dss"])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.hasPrefix("Plan: dss"), plan.stdout)
        // And the library is only hidden in that namespace.
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
    }

    /// Without OpenSSL, the TLS check of an open HTTPS port is an error that says why; the
    /// connect before it still works.
    func testTheTLSCheckSaysWhenOpenSSLCannotBeLoaded() throws {
        try listen(["443/tcp"])
        let probe = try without("libssl.so.3", ["probe", "127.0.0.1", "--ports", "443/tcp", "--timeout", "1s", "--format", "json"])
        XCTAssertEqual(probe.status, 1, probe.stdout + probe.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any], probe.stderr)
        let result = try XCTUnwrap((json["results"] as? [[String: Any]])?.first)
        XCTAssertEqual(result["verdict"] as? String, "error")
        let detail = result["detail"] as? String ?? ""
        XCTAssertTrue(detail.hasPrefix("TLS check: cannot load OpenSSL ("), detail)
        XCTAssertTrue(detail.hasSuffix("; install libssl3"), detail)
    }
}
