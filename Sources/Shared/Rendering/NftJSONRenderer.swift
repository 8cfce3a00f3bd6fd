import PortModel
import PortPlanning

/// Renders an `NftRuleset` as libnftables JSON commands (libnftables-json(5)).
///
/// The same replace idiom as the text: add the table, delete it, add it again with everything in it.
public enum NftJSONRenderer {
    /// The full replace transaction.
    public static func render(_ ruleset: NftRuleset) -> JSONValue {
        let tableRef: JSONValue = .object([("family", .string(ruleset.family)), ("name", .string(ruleset.table))])
        var commands: [JSONValue] = [
            .object([("metainfo", .object([("json_schema_version", .int(1))]))]),
            .object([("add", .object([("table", tableRef)]))]),
            .object([("delete", .object([("table", tableRef)]))]),
        ]
        commands += declaration(ruleset)
        return .object([("nftables", .array(commands))])
    }

    /// The `add` commands that declare the table and its contents.
    public static func declaration(_ ruleset: NftRuleset) -> [JSONValue] {
        var table: [(String, JSONValue)] = [("family", .string(ruleset.family)), ("name", .string(ruleset.table))]
        if let comment = ruleset.comment { table.append(("comment", .string(comment.text))) }
        var commands: [JSONValue] = [add("table", .object(table))]
        for set in ruleset.sets {
            var fields: [(String, JSONValue)] = [
                ("family", .string(ruleset.family)), ("table", .string(ruleset.table)), ("name", .string(set.name)),
            ]
            let types = set.kind.typeNames
            fields.append(("type", types.count == 1 ? .string(types[0]) : .array(types.map { .string($0) })))
            fields.append(("flags", .array([.string("interval")])))
            if let comment = set.comment { fields.append(("comment", .string(comment.text))) }
            if set.counter { fields.append(("stmt", .array([.object([("counter", .null)])]))) }
            if !set.elements.isEmpty {
                fields.append(("elem", .array(set.elements.map { element(set.kind, $0.0, $0.1) })))
            }
            commands.append(add("set", .object(fields)))
        }
        for chain in ruleset.chains {
            var fields: [(String, JSONValue)] = [
                ("family", .string(ruleset.family)), ("table", .string(ruleset.table)), ("name", .string(chain.name)),
            ]
            if let hook = chain.hook {
                fields += [
                    ("type", .string(hook.type)), ("hook", .string(hook.hook)), ("prio", .int(hook.priority)),
                    ("policy", .string(hook.policy)),
                ]
            }
            commands.append(add("chain", .object(fields)))
        }
        for chain in ruleset.chains {
            for rule in chain.rules {
                var fields: [(String, JSONValue)] = [
                    ("family", .string(ruleset.family)), ("table", .string(ruleset.table)), ("chain", .string(chain.name)),
                ]
                var expr = rule.matches.map(match)
                if rule.counter { expr.append(.object([("counter", .null)])) }
                expr.append(.object([(rule.verdict.rawValue, .null)]))
                fields.append(("expr", .array(expr)))
                if let comment = rule.comment { fields.append(("comment", .string(comment.text))) }
                commands.append(add("rule", .object(fields)))
            }
        }
        return commands
    }

    static func add(_ kind: String, _ body: JSONValue) -> JSONValue {
        .object([("add", .object([(kind, body)]))])
    }

    static func element(_ kind: NftSet.Kind, _ element: NftSet.Element, _ comment: NftComment?) -> JSONValue {
        let value: JSONValue
        switch element {
        case .protoPort(let transport, let range):
            value = .object([("concat", .array([.string(transport.rawValue), portValue(range)]))])
        case .address(let cidr):
            value =
                cidr.isHost
                ? .string(cidr.addressText)
                : .object([("prefix", .object([("addr", .string(cidr.addressText)), ("len", .int(cidr.prefix))]))])
        }
        guard let comment else { return value }
        return .object([("elem", .object([("val", value), ("comment", .string(comment.text))]))])
    }

    static func portValue(_ range: PortRange) -> JSONValue {
        range.isSingle
            ? .int(Int(range.low.value)) : .object([("range", .array([.int(Int(range.low.value)), .int(Int(range.high.value))]))])
    }

    static func match(_ match: NftRule.Match) -> JSONValue {
        func eq(_ left: JSONValue, _ right: JSONValue, op: String = "==") -> JSONValue {
            .object([("match", .object([("op", .string(op)), ("left", left), ("right", right)]))])
        }
        func payload(_ proto: String, _ field: String) -> JSONValue {
            .object([("payload", .object([("protocol", .string(proto)), ("field", .string(field))]))])
        }
        func strings(_ items: [String]) -> JSONValue {
            items.count == 1 ? .string(items[0]) : .object([("set", .array(items.map { .string($0) }))])
        }
        switch match {
        case .ctState(let states):
            return eq(
                .object([("ct", .object([("key", .string("state"))]))]),
                states.count == 1 ? .string(states[0]) : .array(states.map { .string($0) }), op: "in")
        case .inputInterface(let name):
            return eq(.object([("meta", .object([("key", .string("iif"))]))]), .string(name))
        case .icmpType(let types):
            return eq(payload("icmp", "type"), strings(types))
        case .icmpv6Type(let types):
            return eq(payload("icmpv6", "type"), strings(types))
        case .tcpDestinationPorts(let ranges):
            let right: JSONValue = ranges.count == 1 ? portValue(ranges[0]) : .object([("set", .array(ranges.map(portValue)))])
            return eq(payload("tcp", "dport"), right)
        case .sourceAddressInSet(let family, let set):
            return eq(payload(family == .ipv4 ? "ip" : "ip6", "saddr"), .string("@\(set)"))
        case .destinationAddress(let address):
            return eq(payload(address.family == .ipv4 ? "ip" : "ip6", "daddr"), .string(address.addressText))
        case .protoPortInSet(let set):
            return eq(
                .object([("concat", .array([.object([("meta", .object([("key", .string("l4proto"))]))]), payload("th", "dport")]))]),
                .string("@\(set)"))
        }
    }
}
