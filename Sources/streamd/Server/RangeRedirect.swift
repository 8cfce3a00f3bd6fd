import Shared

/// Answers a whole UDP range (up to 10000-65535) with one socket: an nftables table of streamd's
/// own redirects new datagrams for local addresses in the range to the socket on the range's
/// first port. Conntrack rewrites the replies, so each reply leaves from the port the probe
/// knocked on. No socket per port is bound and no ephemeral port is taken.
///
/// It needs CAP_NET_ADMIN. The table is created with the `owner` flag: the kernel deletes it when
/// streamd's netlink socket closes, so it never outlives streamd, even after SIGKILL.
final class RangeRedirect: @unchecked Sendable {
    static let table = "streamd"
    let backend: LibNftablesBackend

    init(backend: LibNftablesBackend = LibNftablesBackend()) {
        self.backend = backend
    }

    /// Ranges wider than this are redirected; narrower ones get a socket per port.
    static let threshold = 64

    func install(_ ranges: [(PortRange, target: UInt16)]) throws(NftablesError) {
        let table = JSONValue.object([("family", .string("inet")), ("name", .string(Self.table))])
        var commands: [JSONValue] = [
            .object([("metainfo", .object([("json_schema_version", .int(1))]))]),
            .object([("add", .object([("table", .object([("family", .string("inet")), ("name", .string(Self.table)), ("flags", .array([.string("owner")]))]))]))]),
        ]
        _ = table
        for (hook, priority) in [("prerouting", -100), ("output", -100)] {
            commands.append(.object([("add", .object([("chain", .object([
                ("family", .string("inet")), ("table", .string(Self.table)), ("name", .string(hook)), ("type", .string("nat")),
                ("hook", .string(hook)), ("prio", .int(priority)), ("policy", .string("accept")),
            ]))]))]))
            for (range, target) in ranges {
                let low = Int(range.low.value) == Int(target) ? Int(target) + 1 : Int(range.low.value)
                guard low <= Int(range.high.value) else { continue }
                commands.append(.object([("add", .object([("rule", .object([
                    ("family", .string("inet")), ("table", .string(Self.table)), ("chain", .string(hook)),
                    ("expr", .array([
                        .object([("match", .object([("op", .string("==")), ("left", .object([("fib", .object([("result", .string("type")), ("flags", .array([.string("daddr")]))]))])), ("right", .string("local"))]))]),
                        .object([("match", .object([("op", .string("in")), ("left", .object([("ct", .object([("key", .string("state"))]))])), ("right", .string("new"))]))]),
                        .object([("match", .object([("op", .string("==")), ("left", .object([("payload", .object([("protocol", .string("udp")), ("field", .string("dport"))]))])), ("right", .object([("range", .array([.int(low), .int(Int(range.high.value))]))]))]))]),
                        .object([("redirect", .object([("port", .int(Int(target)))]))]),
                    ])),
                    ("comment", .string("streamd: answer \(range)/udp on port \(target)")),
                ]))]))]))
            }
        }
        try backend.run(.object([("nftables", .array(commands))]), check: false)
    }
}
