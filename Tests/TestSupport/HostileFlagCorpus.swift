import Foundation

/// The corpus's bad flag values, each with its exit code and exact first error line.
extension HostileCorpus {
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

    public static let address = "is not an IPv4 or IPv6 address or CIDR (e.g. 192.0.2.0/24, 198.51.100.7, 2001:db8::/32)"

    public static let flagCases: [Case] = [
        Case(
            arguments: ["plan", "dsss"], status: 64,
            message: "portctl: error: unknown profile 'dsss'; did you mean 'dss'? (run 'portctl profiles list' to see them all)"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "300.1.1.1"], status: 64,
            message: "portctl: error: --admin-from: '300.1.1.1' \(address)"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "192.0.2.1/24"], status: 64,
            message: "portctl: error: --admin-from: '192.0.2.1/24' has host bits set; did you mean 192.0.2.0/24?"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "192.0.2.0/33"], status: 64,
            message: "portctl: error: --admin-from: '192.0.2.0/33' has a bad prefix length (expected 0-32)"),
        Case(
            arguments: ["plan", "dss", "--broadcaster", "example.org"], status: 64,
            message: "portctl: error: --broadcaster: 'example.org' \(address)"),
        Case(arguments: ["plan", "dss", "--broadcaster", ""], status: 64, message: "portctl: error: --broadcaster: '' \(address)"),
        Case(
            arguments: ["plan", "dss", "--ssh-port", "0"], status: 64,
            message: "portctl: error: --ssh-port: port 0 is out of range (1-65535)"),
        Case(
            arguments: ["plan", "dss", "--ssh-port", "70000"], status: 64,
            message: "portctl: error: --ssh-port: port 70000 is out of range (1-65535)"),
        Case(
            arguments: ["plan", "dss", "--ssh-port", "ssh"], status: 64,
            message: "portctl: error: --ssh-port: 'ssh' is not a port number (expected 1-65535, or a range such as 6970-6999)"),
        Case(
            arguments: ["plan", "dss", "--no-ssh-guard", "--ssh-port", "2222"], status: 64,
            message: "portctl: error: --no-ssh-guard: cannot be combined with --ssh-port"),
        Case(
            arguments: ["plan", "dss", "--with", "tls"], status: 64,
            message: "portctl: error: --with: 'tls' is not an option of dss (options: port80)"),
        Case(
            arguments: ["plan", "dss", "--with", "port8O"], status: 64,
            message: "portctl: error: --with: 'port8O' is not an option of dss; did you mean 'port80'? (options: port80)"),
        Case(
            arguments: ["plan", "http-streaming", "--port80"], status: 64,
            message: "portctl: error: --port80: http-streaming has no port-80 option (it offers no options)"),
        Case(
            arguments: ["plan", "dss", "--source-set", "encoders=192.0.2.0/24"], status: 64,
            message: "portctl: error: --source-set: source set 'encoders' is not declared by dss (sets: admins, broadcasters)"),
        Case(
            arguments: ["plan", "dss", "--source-set", "192.0.2.0/24"], status: 64,
            message: "portctl: error: --source-set: '192.0.2.0/24' must be NAME=CIDR[,CIDR...], e.g. publishers=203.0.113.0/24"),
        Case(
            arguments: ["plan", "dss", "--source-set", "admins=10.0.0.0/8,bad"], status: 64,
            message: "portctl: error: --source-set admins: 'bad' \(address)"),
        Case(
            arguments: ["plan", "dss", "--format", "xml"], status: 64,
            message: "Error: The value 'xml' is invalid for '--format <format>'. Please provide one of the following:"),
        Case(
            arguments: ["plan", "dss", "--ip-family", "ipv5"], status: 64,
            message: "Error: The value 'ipv5' is invalid for '--ip-family <family>'. Please provide one of 'ipv4' and 'ipv6'."),
        Case(arguments: ["plan", "dss", "--bogus"], status: 64, message: "Error: Unknown option '--bogus'"),
        Case(
            arguments: ["plan"], status: 64,
            message: "portctl: error: name at least one profile, or a server configuration with --config FILE"),
        Case(
            arguments: ["profiles", "show", "nope"], status: 64,
            message: "portctl: error: unknown profile 'nope' (run 'portctl profiles list' to see them all)"),
        Case(
            arguments: ["plan", "mediamtx", "--with", "apii"], status: 64,
            message:
                "portctl: error: --with: 'apii' is not an option of mediamtx; did you mean 'api'? (options: api, metrics, multicast, playback, pprof, rtmps, rtsps)"
        ),
        // Issue 11: negative, non-finite and out-of-range numbers say what is valid.
        Case(
            arguments: ["apply", "dss", "--confirm", "-5"], status: 64,
            message: "portctl: error: --confirm: '-5' is not a number of seconds from 1 to 3600"),
        Case(
            arguments: ["apply", "dss", "--confirm", "0"], status: 64,
            message: "portctl: error: --confirm: '0' is not a number of seconds from 1 to 3600"),
        Case(
            arguments: ["apply", "dss", "--confirm", "3601"], status: 64,
            message: "portctl: error: --confirm: '3601' is not a number of seconds from 1 to 3600"),
        Case(
            arguments: ["apply", "dss", "--confirm", "abc"], status: 64,
            message: "portctl: error: --confirm: 'abc' is not a number of seconds from 1 to 3600"),
        Case(
            arguments: ["apply", "dss", "--confirm", "1.5"], status: 64,
            message: "portctl: error: --confirm: '1.5' is not a number of seconds from 1 to 3600"),
        Case(
            arguments: ["apply", "dss", "--confirm", "5", "--dry-run"], status: 64,
            message: "portctl: error: --confirm cannot be combined with --dry-run"),
        Case(
            arguments: ["apply", "dss", "--wait", "-1"], status: 64,
            message: "portctl: error: --wait: '-1' is not a number of seconds from 0 to 3600"),
        Case(
            arguments: ["apply", "dss", "--wait", "nan"], status: 64,
            message: "portctl: error: --wait: 'nan' is not a number of seconds from 0 to 3600"),
        Case(
            arguments: ["apply", "dss", "--wait", "1e309"], status: 64,
            message: "portctl: error: --wait: '1e309' is not a number of seconds from 0 to 3600"),
        Case(
            arguments: ["apply", "dss", "--wait", "inf"], status: 64,
            message: "portctl: error: --wait: 'inf' is not a number of seconds from 0 to 3600"),
        Case(
            arguments: ["remove", "--wait", "3601"], status: 64,
            message: "portctl: error: --wait: '3601' is not a number of seconds from 0 to 3600"),
        Case(
            arguments: ["plan", "dss", "--ssh-port", "-1"], status: 64,
            message: "portctl: error: --ssh-port: port -1 is out of range (1-65535)"),
        Case(
            arguments: ["rollback", "--to", "-1"], status: 64,
            message: "portctl: error: --to: '-1' is not a generation number (0 or more; see portctl history)"),
        Case(
            arguments: ["rollback", "--to", "x"], status: 64,
            message: "portctl: error: --to: 'x' is not a generation number (0 or more; see portctl history)"),
        // Stray commas.
        Case(
            arguments: ["plan", "dss", "--ssh-port", "22,"], status: 64,
            message: "portctl: error: --ssh-port: '22,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(
            arguments: ["plan", "dss", "--ssh-port", "22,,23"], status: 64,
            message: "portctl: error: --ssh-port: '22,,23' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "10.0.0.0/8,"], status: 64,
            message:
                "portctl: error: --admin-from: '10.0.0.0/8,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"
        ),
        Case(
            arguments: ["plan", "dss", "--admin-from", ",10.0.0.0/8"], status: 64,
            message:
                "portctl: error: --admin-from: ',10.0.0.0/8' has an empty item (a stray comma); separate values with single commas, e.g. a,b"
        ),
        Case(
            arguments: ["plan", "dss", "--with", "port80,"], status: 64,
            message: "portctl: error: --with: 'port80,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        Case(
            arguments: ["conflicts", "dss", "--port", "80/tcp,"], status: 64,
            message: "portctl: error: --port: '80/tcp,' has an empty item (a stray comma); separate values with single commas, e.g. a,b"),
        // Directories that would put state or read profiles somewhere surprising.
        Case(
            arguments: ["apply", "dss", "--state-dir", ""], status: 64,
            message: "portctl: error: --state-dir: '' is empty; give an absolute directory, e.g. /var/lib/portctl"),
        Case(
            arguments: ["apply", "dss", "--state-dir", "state"], status: 64,
            message: "portctl: error: --state-dir: 'state' is relative; give an absolute directory, e.g. /var/lib/portctl"),
        Case(
            arguments: ["status", "--state-dir", ""], status: 64,
            message: "portctl: error: --state-dir: '' is empty; give an absolute directory, e.g. /var/lib/portctl"),
        Case(
            arguments: ["history", "--state-dir", "/"], status: 64,
            message: "portctl: error: --state-dir: '/' is not a directory of its own; give one such as /var/lib/portctl"),
        Case(
            arguments: ["confirm", "--state-dir", "/tmp/../"], status: 64,
            message: "portctl: error: --state-dir: '/tmp/../' is not a directory of its own; give one such as /var/lib/portctl"),
        Case(
            arguments: ["remove", "--state-dir", "/tmp/x\ny"], status: 64,
            message: "portctl: error: --state-dir: '/tmp/x\\u{a}y' contains control characters"),
        Case(
            arguments: ["rollback", "--state-dir", "/etc/passwd"], status: 64,
            message: "portctl: error: --state-dir: '/etc/passwd' exists and is not a directory"),
        Case(
            arguments: ["plan", "dss", "--profile-dir", ""], status: 64,
            message: "portctl: error: --profile-dir: '' is empty; give a directory of profiles, e.g. /etc/portctl/profiles.d"),
        Case(
            arguments: ["plan", "dss", "--profile-dir", "/nonexistent"], status: 66,
            message: "portctl: error: --profile-dir: /nonexistent does not exist"),
        Case(
            arguments: ["profiles", "list", "--profile-dir", "/etc/passwd"], status: 64,
            message: "portctl: error: --profile-dir: /etc/passwd is not a directory (profiles are NAME.yaml files in a directory)"),
        Case(
            arguments: ["conflicts", "dss", "--root", "/nonexistent"], status: 64,
            message:
                "portctl: error: --root: '/nonexistent' is not an existing directory (it must hold the proc, etc and run of the system to check)"
        ),
        Case(
            arguments: ["conflicts", "dss", "--root", ""], status: 64,
            message: "portctl: error: --root: '' is not an existing directory (it must hold the proc, etc and run of the system to check)"),
        // --attach.
        Case(
            arguments: ["apply", "dss", "--attach", "inet filter"], status: 64,
            message: "portctl: error: --attach: 'inet filter' must be FAMILY TABLE CHAIN, e.g. 'inet filter input'"),
        Case(
            arguments: ["apply", "dss", "--attach", "inet filter input; flush ruleset"], status: 64,
            message: "portctl: error: --attach: 'inet filter input; flush ruleset' must be FAMILY TABLE CHAIN, e.g. 'inet filter input'"),
        Case(
            arguments: ["apply", "dss", "--attach", "arp filter input"], status: 64,
            message: "portctl: error: --attach: family 'arp' is not supported (expected inet, ip or ip6)"),
        // Values echoed back are cut short and their control characters escaped.
        Case(
            arguments: ["plan", String(repeating: "a", count: 200)], status: 64,
            message:
                "portctl: error: unknown profile '\(String(repeating: "a", count: 80))...' (run 'portctl profiles list' to see them all)"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "10.0.0.1\u{1b}[2J"], status: 64,
            message: "portctl: error: --admin-from: '10.0.0.1\\u{1b}[2J' \(address)"),
        Case(
            arguments: ["plan", "dss", "--broadcaster", "0.0.0.0/0x"], status: 64,
            message: "portctl: error: --broadcaster: '0.0.0.0/0x' has a bad prefix length (expected 0-32)"),
        Case(
            arguments: ["plan", "dss", "--source-set", "=1.2.3.4"], status: 64,
            message: "portctl: error: --source-set: '=1.2.3.4' must be NAME=CIDR[,CIDR...], e.g. publishers=203.0.113.0/24"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "@/nonexistent"], status: 64,
            message: "portctl: error: --admin-from: cannot read address file '/nonexistent'"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "2001:db8::/129"], status: 64,
            message: "portctl: error: --admin-from: '2001:db8::/129' has a bad prefix length (expected 0-128)"),
        Case(
            arguments: ["plan", "dss", "--admin-from", "::ffff:300.1.1.1"], status: 64,
            message: "portctl: error: --admin-from: '::ffff:300.1.1.1' \(address)"),
    ]
}
