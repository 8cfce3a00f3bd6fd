import FirewallState
import FoundationEssentials
import HostInspection
import NftablesKernel
import PortModel
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// Answers a whole UDP range (up to 10000-65535) with one socket: an nftables table of streamd's
/// own redirects new datagrams for local addresses in the range to the socket on the range's
/// first port. Conntrack rewrites the replies, so each reply leaves from the port the probe
/// knocked on. No socket per port is bound and no ephemeral port is taken.
///
/// It needs CAP_NET_ADMIN. Before streamd drops root, it starts a small helper that stays root and
/// holds the read end of a pipe; when streamd exits, however it exits (SIGKILL included), the pipe
/// closes and the helper deletes the table. (nft's `owner` table flag would do this in the kernel,
/// but libnftables 1.0.6 ignores table flags in JSON input.)
final class RangeRedirect: @unchecked Sendable {
    static let table = "streamd"
    let backend: LibNftablesBackend

    init(backend: LibNftablesBackend = LibNftablesBackend()) {
        self.backend = backend
    }

    /// Ranges wider than this are redirected; narrower ones get a socket per port.
    static let threshold = 64
    /// The knock's first four bytes, "PCK1", as the 32-bit number nftables compares.
    static let knockMagic = Knock.magic.reduce(0) { $0 << 8 | Int($1) }

    func install(_ ranges: [(PortRange, target: UInt16)]) throws(NftablesError) {
        try backend.run(Self.batch(ranges), check: false)
    }

    /// The batch that installs the table: in each hook's nat chain, a rule per range that sends new
    /// datagrams for local addresses to the range's target port.
    static func batch(_ ranges: [(PortRange, target: UInt16)]) -> JSONValue {
        let ownTable = Transaction.tableRef("inet", table, flags: ["owner"])
        var commands = [Transaction.metainfo, Transaction.command("add", "table", ownTable)]
        for hook in ["prerouting", "output"] {
            let chain = Transaction.baseChain(
                family: "inet", table: table, name: hook, type: "nat", hook: hook, priority: -100, policy: "accept")
            commands.append(Transaction.command("add", "chain", chain))
            for (range, target) in ranges {
                let low = Int(range.low.value) == Int(target) ? Int(target) + 1 : Int(range.low.value)
                guard low <= Int(range.high.value) else { continue }
                let addressType = JSONValue.object([("result", .string("type")), ("flags", .array([.string("daddr")]))])
                let port = JSONValue.object([("payload", .object([("protocol", .string("udp")), ("field", .string("dport"))]))])
                var expressions = [
                    match("==", .object([("fib", addressType)]), .string("local")),
                    match("in", .object([("ct", .object([("key", .string("state"))]))]), .string("new")),
                    match("==", port, .object([("range", .array([.int(low), .int(Int(range.high.value))]))])),
                ]
                // From this host's own programs, only knocks ("PCK1" at the start of the UDP payload):
                // other local flows to high ports (another server's RTP to a local player) are left alone.
                if hook == "output" {
                    let payloadStart = JSONValue.object([("base", .string("th")), ("offset", .int(64)), ("len", .int(32))])
                    expressions.append(match("==", .object([("payload", payloadStart)]), .int(knockMagic)))
                }
                expressions.append(.object([("redirect", .object([("port", .int(Int(target)))]))]))
                let comment =
                    hook == "output"
                    ? "streamd: answer knocks from this host on \(range)/udp on port \(target)"
                    : "streamd: answer \(range)/udp on port \(target)"
                let rule = Transaction.rule(family: "inet", table: table, chain: hook, expressions: expressions, comment: comment)
                commands.append(Transaction.command("add", "rule", rule))
            }
        }
        return .object([("nftables", .array(commands))])
    }

    /// A match expression (libnftables-json(5)).
    private static func match(_ op: String, _ left: JSONValue, _ right: JSONValue) -> JSONValue {
        .object([("match", .object([("op", .string(op)), ("left", left), ("right", right)]))])
    }

    /// The batch that takes the table out: add it (so the delete cannot fail), then delete it.
    static var removal: JSONValue {
        let table = JSONValue.object([("table", .object([("family", .string("inet")), ("name", .string(table))]))])
        return .object([("nftables", .array([.object([("add", table)]), .object([("delete", table)])]))])
    }

    /// Starts the helper: this executable with --cleanup-helper, its standard input the read end of
    /// a pipe whose write end only streamd holds.
    static func startCleanupHelper() throws -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw NftablesError(kind: .rejected, message: "pipe: \(String(cString: strerror(errno)))") }
        // Close-on-exec on both ends: the helper gets only the read end, as its standard input.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        let executable = Detached.selfExecutable
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), strdup("--cleanup-helper"), nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(fds[0])
        guard status == 0 else {
            close(fds[1])
            throw NftablesError(kind: .rejected, message: "cannot start the cleanup helper: \(String(cString: strerror(status)))")
        }
        // fds[1] stays open, close-on-exec, until streamd exits.
        return pid
    }

    /// The helper's whole life: wait for EOF on standard input, then remove the table.
    static func runCleanupHelper() {
        for number in [SIGINT, SIGTERM, SIGHUP] { signal(number, SIG_IGN) }
        var byte: UInt8 = 0
        while read(0, &byte, 1) > 0 {}
        try? LibNftablesBackend().run(removal, check: false)
    }
}
