import Foundation
import TestSupport
import XCTest

/// The bad-input corpus: every malformed profile and flag value gets one clear error line,
/// naming the file:line:column or the flag, and a documented exit code.
final class CorpusTests: XCTestCase {
    static let corpus = TestPaths.repository.appendingPathComponent("Tests/PortctlTests/Corpus/profiles")

    /// file -> (exit code, the exact stderr, with the file's path written as FILE).
    static let profileCases: [String: (Int32, String)] = [
        "port-zero.yaml": (65, "FILE:7:13: error: opening 'rtsp': port 0 is out of range (1-65535)"),
        "port-65536.yaml": (65, "FILE:7:13: error: opening 'rtsp': port 65536 is out of range (1-65535)"),
        "seed-typo-65635.yaml": (65, "FILE:7:13: error: opening 'broadcast': port 65635 is out of range (1-65535); the seed document's \"10000-65635\" is a typo for 65535"),
        "port-negative.yaml": (65, "FILE:7:13: error: opening 'rtsp': port -1 is out of range (1-65535)"),
        "port-abc.yaml": (65, "FILE:7:13: error: opening 'rtsp': 'abc' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        "port-float.yaml": (65, "FILE:7:13: error: opening 'rtsp': '554.5' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        "range-reversed.yaml": (65, "FILE:7:13: error: opening 'media': port range '6999-6970' is reversed; write it low-high, as 6970-6999"),
        "range-open-ended.yaml": (65, "FILE:7:13: error: opening 'media': '6970-' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        "transport-unknown.yaml": (65, "FILE:7:13: error: opening 'rtsp': unknown transport 'sctp' (expected tcp or udp)"),
        "transport-missing.yaml": (65, "FILE:7:13: error: opening 'rtsp': '554' has no transport (write it as 554/tcp or 554/udp)"),
        "key-typo-prots.yaml": (65, "FILE:7:5: error: unknown key 'prots' in opening; did you mean 'ports'? (valid keys: id, purpose, ports, service, direction, from, when, conflicts)"),
        "key-typo-top.yaml": (65, "FILE:4:1: error: unknown key 'opennings' in profile; did you mean 'openings'? (valid keys: name, title, description, source, options, sources, openings)"),
        "duplicate-id.yaml": (65, "FILE:8:9: error: duplicate opening id 'rtsp' (first defined at line 5); ids must be unique within a profile"),
        "duplicate-key.yaml": (65, "FILE:2:1: error: key 'title' appears twice in one mapping"),
        "ports-empty.yaml": (65, "FILE:7:12: error: opening 'rtsp' has no ports; list at least one, e.g. ports: [554/tcp, 6970-6999/udp]"),
        "ports-null.yaml": (65, "FILE:7:11: error: opening 'rtsp' has no ports; list at least one, e.g. ports: [554/tcp, 6970-6999/udp]"),
        "when-unknown.yaml": (65, "FILE:10:11: error: opening 'tunnel' is enabled when 'port8O', which is not an option of this profile; did you mean 'port80'? (options: port80; declare it under options:)"),
        "when-no-options.yaml": (65, "FILE:8:11: error: opening 'tunnel' is enabled when 'port80', which is not an option of this profile (this profile declares no options; declare it under options:)"),
        "from-undeclared.yaml": (65, "FILE:8:11: error: opening 'admin' is open to source set 'admin', which is not declared; did you mean 'admins'? (use world, loopback, admins, broadcasters, or declare it under sources:)"),
        "from-custom-undeclared.yaml": (65, "FILE:8:11: error: opening 'push' is open to source set 'encoders', which is not declared (use world, loopback, admins, broadcasters, or declare it under sources:)"),
        "service-unknown.yaml": (65, "FILE:8:14: error: opening 'rtsp': unknown service 'rtps'; did you mean 'rtsp'? (expected one of: rtsp, rtsp-http, http, https, rtmp, rtmpt, rtmps, icy, mms, pna, admin, rtp, broadcast, srt, webrtc, other)"),
        "direction-unknown.yaml": (65, "FILE:8:16: error: opening 'rtsp': unknown direction 'inbound' (expected in, out or both)"),
        "conflicts-unknown.yaml": (65, "FILE:8:16: error: opening 'web': unknown conflict kind 'webserver'; did you mean 'web-server'? (expected: web-server)"),
        "missing-ports.yaml": (65, "FILE:5:5: error: opening 'rtsp' is missing required key 'ports' (e.g. ports: [554/tcp])"),
        "missing-purpose.yaml": (65, "FILE:5:5: error: missing required key 'purpose' (why the port is needed, e.g. purpose: RTSP requests from clients)"),
        "missing-id.yaml": (65, "FILE:5:5: error: missing required key 'id' (a short name, e.g. id: rtsp)"),
        "missing-name.yaml": (65, "FILE:1:1: error: missing required key 'name' (the profile's name, e.g. name: dss)"),
        "missing-source.yaml": (65, "FILE:1:1: error: missing required key 'source' (where the ports come from: a document, URL or source file)"),
        "bad-id.yaml": (65, "FILE:5:9: error: opening id 'RTSP_Control' is not valid (lowercase letters, digits and '-', starting with a letter, at most 32 characters)"),
        "bad-profile-name.yaml": (65, "FILE:1:7: error: profile name 'Bad Name' is not valid (lowercase letters, digits and '-', starting with a letter or digit, at most 32 characters)"),
        "openings-empty.yaml": (65, "FILE:4:11: error: openings is empty; a profile must open at least one port"),
        "openings-not-list.yaml": (65, "FILE:5:3: error: openings must be a list (each item starts with '- id:'), not a mapping"),
        "opening-not-mapping.yaml": (65, "FILE:5:5: error: an opening must be a mapping with id, purpose and ports, not a single value"),
        "port-as-mapping.yaml": (65, "FILE:8:9: error: a port must be written like 554/tcp or 6970-6999/udp, not a mapping"),
        "option-bad-name.yaml": (65, "FILE:5:3: error: option name 'Port80' is not valid (lowercase letters, digits and '-', starting with a letter, at most 32 characters)"),
        "builtin-source-redeclared.yaml": (65, "FILE:5:3: error: source set 'admins' is built in; remove it from sources:"),
        "purpose-list.yaml": (65, "FILE:6:14: error: 'purpose' must be text, not a list"),
        "not-yaml.yaml": (65, "FILE:2:8: error: not valid YAML: did not find expected ',' or ']'"),
        "tab-indent.yaml": (65, "FILE:5:1: error: not valid YAML: found character that cannot start any token"),
        "binary.yaml": (65, "FILE:1:1: error: not valid YAML: control characters are not allowed (profiles must be UTF-8 text)"),
        "empty.yaml": (65, "FILE:1:1: error: the file is empty; a profile needs name, title, source and openings"),
        "top-list.yaml": (65, "FILE:1:1: error: a profile must be a YAML mapping with the keys name, title, source and openings, not a list"),
    ]

    func testEveryCorpusFileHasAnExpectation() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { $0.hasSuffix(".yaml") }
        let expected = Set(Self.profileCases.keys).union(["overlap-warning.yaml"])
        XCTAssertEqual(Set(files), expected)
        XCTAssertGreaterThanOrEqual(Self.profileCases.count + FlagCorpus.cases.count, 40)
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

    func testMissingFileIsNoInput() throws {
        let result = try portctl(["profiles", "check", "/nonexistent/x.yaml"])
        XCTAssertEqual(result.status, 66)
        XCTAssertEqual(result.stderr, "portctl: error: /nonexistent/x.yaml does not exist\n")
    }

    func testBadFlagValuesGetOneExactError() throws {
        for item in FlagCorpus.cases {
            let result = try portctl(item.arguments)
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
        XCTAssertEqual(result.stderr, """
            \(directory.path)/bad.yaml:7:13: error: opening 'broadcast': port 65635 is out of range (1-65535); the seed document's "10000-65635" is a typo for 65535
            portctl: error: profile 'bad' is invalid

            """)
    }
}

/// Bad flag values: the arguments, the exit code, and the first line of stderr.
enum FlagCorpus {
    struct Case {
        let arguments: [String]
        let status: Int32
        let message: String
    }

    static let address = "is not an IPv4 or IPv6 address or CIDR (e.g. 192.0.2.0/24, 198.51.100.7, 2001:db8::/32)"

    static let cases: [Case] = [
        Case(arguments: ["plan", "dsss"], status: 64, message: "portctl: error: unknown profile 'dsss'; did you mean 'dss'? (run 'portctl profiles list' to see them all)"),
        Case(arguments: ["plan", "dss", "--admin-from", "300.1.1.1"], status: 64, message: "portctl: error: --admin-from: '300.1.1.1' \(address)"),
        Case(arguments: ["plan", "dss", "--admin-from", "192.0.2.1/24"], status: 64, message: "portctl: error: --admin-from: '192.0.2.1/24' has host bits set; did you mean 192.0.2.0/24?"),
        Case(arguments: ["plan", "dss", "--admin-from", "192.0.2.0/33"], status: 64, message: "portctl: error: --admin-from: '192.0.2.0/33' has a bad prefix length (expected 0-32)"),
        Case(arguments: ["plan", "dss", "--broadcaster", "example.org"], status: 64, message: "portctl: error: --broadcaster: 'example.org' \(address)"),
        Case(arguments: ["plan", "dss", "--broadcaster", ""], status: 64, message: "portctl: error: --broadcaster: '' \(address)"),
        Case(arguments: ["plan", "dss", "--ssh-port", "0"], status: 64, message: "portctl: error: --ssh-port: port 0 is out of range (1-65535)"),
        Case(arguments: ["plan", "dss", "--ssh-port", "70000"], status: 64, message: "portctl: error: --ssh-port: port 70000 is out of range (1-65535)"),
        Case(arguments: ["plan", "dss", "--ssh-port", "ssh"], status: 64, message: "portctl: error: --ssh-port: 'ssh' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        Case(arguments: ["plan", "dss", "--no-ssh-guard", "--ssh-port", "2222"], status: 64, message: "portctl: error: --no-ssh-guard: cannot be combined with --ssh-port"),
        Case(arguments: ["plan", "dss", "--with", "tls"], status: 64, message: "portctl: error: --with: 'tls' is not an option of dss (options: port80)"),
        Case(arguments: ["plan", "dss", "--with", "port8O"], status: 64, message: "portctl: error: --with: 'port8O' is not an option of dss; did you mean 'port80'? (options: port80)"),
        Case(arguments: ["plan", "http-streaming", "--port80"], status: 64, message: "portctl: error: --port80: http-streaming has no port-80 option (it offers no options)"),
        Case(arguments: ["plan", "dss", "--source-set", "encoders=192.0.2.0/24"], status: 64, message: "portctl: error: --source-set: source set 'encoders' is not declared by dss (sets: admins, broadcasters)"),
        Case(arguments: ["plan", "dss", "--source-set", "192.0.2.0/24"], status: 64, message: "portctl: error: --source-set: '192.0.2.0/24' must be NAME=CIDR[,CIDR...], e.g. publishers=203.0.113.0/24"),
        Case(arguments: ["plan", "dss", "--source-set", "admins=10.0.0.0/8,bad"], status: 64, message: "portctl: error: --source-set admins: 'bad' \(address)"),
        Case(arguments: ["plan", "dss", "--format", "xml"], status: 64, message: "Error: The value 'xml' is invalid for '--format <format>'. Please provide one of the following:"),
        Case(arguments: ["plan", "dss", "--ip-family", "ipv5"], status: 64, message: "Error: The value 'ipv5' is invalid for '--ip-family <family>'. Please provide one of 'ipv4' and 'ipv6'."),
        Case(arguments: ["plan", "dss", "--bogus"], status: 64, message: "Error: Unknown option '--bogus'"),
        Case(arguments: ["plan"], status: 64, message: "Error: Missing expected argument '<profile> ...'"),
        Case(arguments: ["profiles", "show", "nope"], status: 64, message: "portctl: error: unknown profile 'nope' (run 'portctl profiles list' to see them all)"),
        Case(arguments: ["plan", "mediamtx", "--with", "apii"], status: 64, message: "portctl: error: --with: 'apii' is not an option of mediamtx; did you mean 'api'? (options: api, metrics, multicast, playback, pprof, rtmps, rtsps)"),
    ]
}
