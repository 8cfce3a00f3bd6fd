import Foundation

/// The hostile-input corpus: malformed and hostile profiles (Tests/PortctlTests/Corpus/profiles)
/// and bad flag values, each with its exit code and exact first error line. CorpusTests checks the
/// messages; HostileCorpusSystemTests feeds every case to `apply` against a real kernel and checks
/// that nothing crashes, hangs, is accepted, or changes the ruleset.
public enum HostileCorpus {
    public static let profileDirectory = TestPaths.repository.appendingPathComponent("Tests/PortctlTests/Corpus/profiles")

    /// A bad flag value: the arguments, the exit code, and the first line of stderr.
    public struct Case: Sendable {
        public let arguments: [String]
        public let status: Int32
        public let message: String

        public init(arguments: [String], status: Int32, message: String) {
            self.arguments = arguments
            self.status = status
            self.message = message
        }
    }

    /// file -> (exit code, the exact stderr, with the file's path written as FILE).
    public static let profileCases: [String: (Int32, String)] = [
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
        "binary.yaml": (65, "FILE:1:4: error: not valid UTF-8 (byte 0xff at offset 3); profiles must be UTF-8 text"),
        "empty.yaml": (65, "FILE:1:1: error: the file is empty; a profile needs name, title, source and openings"),
        "top-list.yaml": (65, "FILE:1:1: error: a profile must be a YAML mapping with the keys name, title, source and openings, not a list"),
        // Hostile input (issue 11): every one refused, quickly, with its line and column.
        "alias-bomb.yaml": (65, "FILE:9:48: error: aliases expand this file to more than 100000 nodes (an alias bomb?); write the values out instead of aliasing aliases"),
        "alias-key.yaml": (65, "FILE:4:1: error: an alias (*t) cannot be a key; write the key out"),
        "invalid-utf8.yaml": (65, "FILE:2:11: error: not valid UTF-8 (byte 0xe9 at offset 20); profiles must be UTF-8 text"),
        "overlong-utf8.yaml": (65, "FILE:3:14: error: not valid UTF-8 (byte 0xc0 at offset 34); profiles must be UTF-8 text"),
        "c1-control.yaml": (65, "FILE:2:8: error: 'title' contains control characters"),
        "line-separator.yaml": (65, "FILE:6:14: error: 'purpose' contains control characters"),
        "bidi-override.yaml": (65, "FILE:2:8: error: 'title' contains control characters"),
        "escape-sequence.yaml": (65, "FILE:2:8: error: 'title' contains control characters"),
        "deep-nesting.yaml": (65, "FILE:2:9: error: not valid YAML: Maximum nesting level reached, set with yaml_set_max_nest_level())"),
        "two-documents.yaml": (65, "FILE:8:1: error: not valid YAML: but found another document"),
        "python-tag.yaml": (65, "FILE:1:7: error: 'name' must be text, not a list"),
        "merge-key.yaml": (65, """
            FILE:9:5: error: unknown key '<<' in opening (valid keys: id, purpose, ports, service, direction, from, when, conflicts)
            FILE:9:5: error: missing required key 'purpose' (why the port is needed, e.g. purpose: RTSP requests from clients)
            FILE:9:5: error: opening 'rtsp2' is missing required key 'ports' (e.g. ports: [554/tcp])
            """),
        "port-huge.yaml": (65, "FILE:7:13: error: opening 'rtsp': port 99999999999999999999999 is out of range (1-65535)"),
        "port-fullwidth.yaml": (65, "FILE:7:13: error: opening 'rtsp': '\u{FF15}\u{FF15}\u{FF14}' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        "port-hex.yaml": (65, "FILE:7:13: error: opening 'rtsp': '0x22a' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        "nft-injection-name.yaml": (65, "FILE:1:7: error: profile name 'x; flush ruleset' is not valid (lowercase letters, digits and '-', starting with a letter or digit, at most 32 characters)"),
        "id-injection.yaml": (65, "FILE:5:9: error: opening id 'rtsp } ; add table ip evil {' is not valid (lowercase letters, digits and '-', starting with a letter, at most 32 characters)"),
        "from-world-admin-key.yaml": (65, "FILE:5:3: error: source set 'world' is built in; remove it from sources:"),
    ]



    public static let address = "is not an IPv4 or IPv6 address or CIDR (e.g. 192.0.2.0/24, 198.51.100.7, 2001:db8::/32)"

    public static let flagCases: [Case] = [
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
        // Issue 11: negative, non-finite and out-of-range numbers say what is valid.
        Case(arguments: ["apply", "dss", "--confirm", "-5"], status: 64, message: "portctl: error: --confirm: '-5' is not a number of seconds from 1 to 3600"),
        Case(arguments: ["apply", "dss", "--confirm", "0"], status: 64, message: "portctl: error: --confirm: '0' is not a number of seconds from 1 to 3600"),
        Case(arguments: ["apply", "dss", "--confirm", "3601"], status: 64, message: "portctl: error: --confirm: '3601' is not a number of seconds from 1 to 3600"),
        Case(arguments: ["apply", "dss", "--confirm", "abc"], status: 64, message: "portctl: error: --confirm: 'abc' is not a number of seconds from 1 to 3600"),
        Case(arguments: ["apply", "dss", "--confirm", "1.5"], status: 64, message: "portctl: error: --confirm: '1.5' is not a number of seconds from 1 to 3600"),
        Case(arguments: ["apply", "dss", "--confirm", "5", "--dry-run"], status: 64, message: "portctl: error: --confirm cannot be combined with --dry-run"),
        Case(arguments: ["apply", "dss", "--wait", "-1"], status: 64, message: "portctl: error: --wait: '-1' is not a number of seconds from 0 to 3600"),
        Case(arguments: ["apply", "dss", "--wait", "nan"], status: 64, message: "portctl: error: --wait: 'nan' is not a number of seconds from 0 to 3600"),
        Case(arguments: ["apply", "dss", "--wait", "1e309"], status: 64, message: "portctl: error: --wait: '1e309' is not a number of seconds from 0 to 3600"),
        Case(arguments: ["apply", "dss", "--wait", "inf"], status: 64, message: "portctl: error: --wait: 'inf' is not a number of seconds from 0 to 3600"),
        Case(arguments: ["remove", "--wait", "3601"], status: 64, message: "portctl: error: --wait: '3601' is not a number of seconds from 0 to 3600"),
        Case(arguments: ["plan", "dss", "--ssh-port", "-1"], status: 64, message: "portctl: error: --ssh-port: port -1 is out of range (1-65535)"),
        Case(arguments: ["rollback", "--to", "-1"], status: 64, message: "portctl: error: --to: '-1' is not a generation number (0 or more; see portctl history)"),
        Case(arguments: ["rollback", "--to", "x"], status: 64, message: "portctl: error: --to: 'x' is not a generation number (0 or more; see portctl history)"),
        // Stray commas.
        Case(arguments: ["plan", "dss", "--ssh-port", "22,"], status: 64, message: "portctl: error: --ssh-port: '22,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(arguments: ["plan", "dss", "--ssh-port", "22,,23"], status: 64, message: "portctl: error: --ssh-port: '22,,23' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(arguments: ["plan", "dss", "--admin-from", "10.0.0.0/8,"], status: 64, message: "portctl: error: --admin-from: '10.0.0.0/8,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(arguments: ["plan", "dss", "--admin-from", ",10.0.0.0/8"], status: 64, message: "portctl: error: --admin-from: ',10.0.0.0/8' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(arguments: ["plan", "dss", "--with", "port80,"], status: 64, message: "portctl: error: --with: 'port80,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(arguments: ["conflicts", "dss", "--port", "80/tcp,"], status: 64, message: "portctl: error: --port: '80/tcp,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        // Directories that would put state or read profiles somewhere surprising.
        Case(arguments: ["apply", "dss", "--state-dir", ""], status: 64, message: "portctl: error: --state-dir: '' is empty; give an absolute directory, e.g. /var/lib/portctl"),
        Case(arguments: ["apply", "dss", "--state-dir", "state"], status: 64, message: "portctl: error: --state-dir: 'state' is relative; give an absolute directory, e.g. /var/lib/portctl"),
        Case(arguments: ["status", "--state-dir", ""], status: 64, message: "portctl: error: --state-dir: '' is empty; give an absolute directory, e.g. /var/lib/portctl"),
        Case(arguments: ["history", "--state-dir", "/"], status: 64, message: "portctl: error: --state-dir: '/' is not a directory of its own; give one such as /var/lib/portctl"),
        Case(arguments: ["confirm", "--state-dir", "/tmp/../"], status: 64, message: "portctl: error: --state-dir: '/tmp/../' is not a directory of its own; give one such as /var/lib/portctl"),
        Case(arguments: ["remove", "--state-dir", "/tmp/x\ny"], status: 64, message: "portctl: error: --state-dir: '/tmp/x\\u{a}y' contains control characters"),
        Case(arguments: ["rollback", "--state-dir", "/etc/passwd"], status: 64, message: "portctl: error: --state-dir: '/etc/passwd' exists and is not a directory"),
        Case(arguments: ["plan", "dss", "--profile-dir", ""], status: 64, message: "portctl: error: --profile-dir: '' is empty; give a directory of profiles, e.g. /etc/portctl/profiles.d"),
        Case(arguments: ["plan", "dss", "--profile-dir", "/nonexistent"], status: 66, message: "portctl: error: --profile-dir: /nonexistent does not exist"),
        Case(arguments: ["profiles", "list", "--profile-dir", "/etc/passwd"], status: 64, message: "portctl: error: --profile-dir: /etc/passwd is not a directory (profiles are NAME.yaml files in a directory)"),
        Case(arguments: ["conflicts", "dss", "--root", "/nonexistent"], status: 64, message: "portctl: error: --root: '/nonexistent' is not an existing directory (it must hold the proc, etc and run of the system to check)"),
        Case(arguments: ["conflicts", "dss", "--root", ""], status: 64, message: "portctl: error: --root: '' is not an existing directory (it must hold the proc, etc and run of the system to check)"),
        // --attach.
        Case(arguments: ["apply", "dss", "--attach", "inet filter"], status: 64, message: "portctl: error: --attach: 'inet filter' must be FAMILY TABLE CHAIN, e.g. 'inet filter input'"),
        Case(arguments: ["apply", "dss", "--attach", "inet filter input; flush ruleset"], status: 64, message: "portctl: error: --attach: 'inet filter input; flush ruleset' must be FAMILY TABLE CHAIN, e.g. 'inet filter input'"),
        Case(arguments: ["apply", "dss", "--attach", "arp filter input"], status: 64, message: "portctl: error: --attach: family 'arp' is not supported (expected inet, ip or ip6)"),
        // Values echoed back are cut short and their control characters escaped.
        Case(arguments: ["plan", String(repeating: "a", count: 200)], status: 64, message: "portctl: error: unknown profile '\(String(repeating: "a", count: 80))...' (run 'portctl profiles list' to see them all)"),
        Case(arguments: ["plan", "dss", "--admin-from", "10.0.0.1\u{1b}[2J"], status: 64, message: "portctl: error: --admin-from: '10.0.0.1\\u{1b}[2J' \(address)"),
        Case(arguments: ["plan", "dss", "--broadcaster", "0.0.0.0/0x"], status: 64, message: "portctl: error: --broadcaster: '0.0.0.0/0x' has a bad prefix length (expected 0-32)"),
        Case(arguments: ["plan", "dss", "--source-set", "=1.2.3.4"], status: 64, message: "portctl: error: --source-set: '=1.2.3.4' must be NAME=CIDR[,CIDR...], e.g. publishers=203.0.113.0/24"),
        Case(arguments: ["plan", "dss", "--admin-from", "@/nonexistent"], status: 64, message: "portctl: error: --admin-from: cannot read address file '/nonexistent'"),
        Case(arguments: ["plan", "dss", "--admin-from", "2001:db8::/129"], status: 64, message: "portctl: error: --admin-from: '2001:db8::/129' has a bad prefix length (expected 0-128)"),
        Case(arguments: ["plan", "dss", "--admin-from", "::ffff:300.1.1.1"], status: 64, message: "portctl: error: --admin-from: '::ffff:300.1.1.1' \(address)"),
    ]
}
