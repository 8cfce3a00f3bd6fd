import PlanRendering
import PortModel
import PortPlanning

/// Builds the libnftables batches that change portctl's objects, and nothing else, in one transaction.
public enum Transaction {
    package static let metainfo = JSONValue.object([("metainfo", .object([("json_schema_version", .int(1))]))])

    /// Replaces portctl's objects with `ruleset`. Standalone: add the table, delete it, declare it anew.
    /// Attach: empty portctl's chain, drop its old sets, declare the new ones, and jump to the chain
    /// from the admin's chain unless a jump is already there.
    public static func apply(declaration: [JSONValue], placement: Placement, live: LiveRuleset) -> JSONValue {
        var commands = [metainfo]
        switch placement {
        case .standalone(let table):
            let ref = tableRef("inet", table)
            commands += [command("add", "table", ref), command("delete", "table", ref)]
            commands += declaration
        case .attach(let family, let table, let chain):
            let chainRef = JSONValue.object([
                ("family", .string(family)), ("table", .string(table)), ("name", .string(Placement.attachedChain)),
            ])
            commands += [command("add", "chain", chainRef), command("flush", "chain", chainRef)]
            for set in ownedSets(live, family: family, table: table) {
                commands.append(
                    command("delete", "set", .object([("family", .string(family)), ("table", .string(table)), ("name", .string(set))])))
            }
            commands += declaration.filter { $0["add"]?["table"] == nil }
            if jumpHandles(live, family: family, table: table, chain: chain).isEmpty {
                commands.append(.object([("insert", .object([("rule", jumpRule(family: family, table: table, chain: chain))]))]))
            }
        }
        return .object([("nftables", .array(commands))])
    }

    /// Takes portctl's objects out: its table, or its chain, sets and jump in the admin's table.
    public static func remove(placement: Placement, live: LiveRuleset) -> JSONValue {
        var commands = [metainfo]
        switch placement {
        case .standalone(let table):
            let ref = tableRef("inet", table)
            commands += [command("add", "table", ref), command("delete", "table", ref)]
        case .attach(let family, let table, let chain):
            for handle in jumpHandles(live, family: family, table: table, chain: chain) {
                commands.append(
                    command(
                        "delete", "rule",
                        .object([
                            ("family", .string(family)), ("table", .string(table)), ("chain", .string(chain)), ("handle", .int(handle)),
                        ])))
            }
            if live.chain(family: family, table: table, name: Placement.attachedChain) != nil {
                let chainRef = JSONValue.object([
                    ("family", .string(family)), ("table", .string(table)), ("name", .string(Placement.attachedChain)),
                ])
                commands += [command("flush", "chain", chainRef), command("delete", "chain", chainRef)]
            }
            for set in ownedSets(live, family: family, table: table) {
                commands.append(
                    command("delete", "set", .object([("family", .string(family)), ("table", .string(table)), ("name", .string(set))])))
            }
        }
        return .object([("nftables", .array(commands))])
    }

    /// Whether portctl's objects exist at all in the live ruleset.
    public static func isPresent(_ placement: Placement, in live: LiveRuleset) -> Bool {
        switch placement {
        case .standalone(let table): return live.hasTable(family: "inet", name: table)
        case .attach(let family, let table, _): return live.chain(family: family, table: table, name: Placement.attachedChain) != nil
        }
    }

    static func ownedSets(_ live: LiveRuleset, family: String, table: String) -> [String] {
        live.sets.filter { $0.family == family && $0.table == table && $0.name.hasPrefix(Placement.attachedSetPrefix) }.map(\.name)
    }

    static func jumpHandles(_ live: LiveRuleset, family: String, table: String, chain: String) -> [Int] {
        live.rules.filter { rule in
            rule.family == family && rule.table == table && rule.chain == chain
                && rule.expr.contains { $0["jump"]?["target"]?.string == Placement.attachedChain }
        }.compactMap(\.handle)
    }

    static func jumpRule(family: String, table: String, chain: String) -> JSONValue {
        .object([
            ("family", .string(family)), ("table", .string(table)), ("chain", .string(chain)),
            ("expr", .array([.object([("jump", .object([("target", .string(Placement.attachedChain))]))])])),
            ("comment", .string(Placement.jumpComment)),
        ])
    }

    package static func tableRef(_ family: String, _ name: String, flags: [String] = []) -> JSONValue {
        let flagged: [(String, JSONValue)] = flags.isEmpty ? [] : [("flags", .array(flags.map { .string($0) }))]
        return .object([("family", .string(family)), ("name", .string(name))] + flagged)
    }

    package static func command(_ verb: String, _ kind: String, _ body: JSONValue) -> JSONValue {
        .object([(verb, .object([(kind, body)]))])
    }

    /// A base chain on a hook (streamd's range redirect declares nat chains with it).
    package static func baseChain(
        family: String, table: String, name: String, type: String, hook: String, priority: Int, policy: String
    ) -> JSONValue {
        .object([
            ("family", .string(family)), ("table", .string(table)), ("name", .string(name)), ("type", .string(type)),
            ("hook", .string(hook)), ("prio", .int(priority)), ("policy", .string(policy)),
        ])
    }

    /// A rule of `expressions` in a chain, with its comment.
    package static func rule(family: String, table: String, chain: String, expressions: [JSONValue], comment: String) -> JSONValue {
        .object([
            ("family", .string(family)), ("table", .string(table)), ("chain", .string(chain)), ("expr", .array(expressions)),
            ("comment", .string(comment)),
        ])
    }
}

/// A stable summary of portctl's objects in a listing, handles and counters left out: two
/// listings with the same fingerprint hold the same portctl rules. Used for drift and no-change.
public enum Fingerprint {
    public static func of(_ listing: JSONValue, placement: Placement) -> String {
        let items = listing["nftables"]?.array ?? []
        let owned = items.filter { isOwned($0, placement: placement) }.map(stripped)
        return JSONValue.array(owned).compact
    }

    static func isOwned(_ item: JSONValue, placement: Placement) -> Bool {
        guard let kind = item.soleKey, let body = item[kind] else { return false }
        switch placement {
        case .standalone(let table):
            if kind == "table" { return body["family"]?.string == "inet" && body["name"]?.string == table }
            return body["family"]?.string == "inet" && body["table"]?.string == table
        case .attach(let family, let table, let chain):
            guard body["family"]?.string == family, body["table"]?.string == table else { return false }
            switch kind {
            case "set": return body["name"]?.string?.hasPrefix(Placement.attachedSetPrefix) ?? false
            case "chain": return body["name"]?.string == Placement.attachedChain
            case "rule":
                if body["chain"]?.string == Placement.attachedChain { return true }
                return body["chain"]?.string == chain
                    && (body["expr"]?.array ?? []).contains { $0["jump"]?["target"]?.string == Placement.attachedChain }
            default: return false
            }
        }
    }

    /// Drops handles and counter values, which change without anyone editing the rules.
    static func stripped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let pairs):
            return .object(
                pairs.filter { $0.0 != "handle" }.map { key, inner in
                    if key == "counter", case .object = inner { return (key, .null) }
                    return (key, stripped(inner))
                })
        case .array(let items): return .array(items.map(stripped))
        default: return value
        }
    }
}
