import PortModel
import PortPlanning

/// Renders an `NftRuleset` as nft text, the form people read and `nft -f` accepts.
///
/// The output replaces only this table, in one transaction: it declares the table (a no-op if it
/// exists), deletes it, and declares it anew, which is firewalld's idiom.
public enum NftTextRenderer {
    public static func render(_ ruleset: NftRuleset) -> String {
        var out = "#!/usr/sbin/nft -f\n"
        for line in ruleset.header { out += "# \(line)\n" }
        out += "# Replaces table \(ruleset.family) \(ruleset.table) and nothing else, in one transaction.\n"
        out += "table \(ruleset.family) \(ruleset.table)\n"
        out += "delete table \(ruleset.family) \(ruleset.table)\n\n"
        out += body(ruleset)
        return out
    }

    /// The table declaration alone, as `nft list table` would show it (without counters and handles).
    public static func body(_ ruleset: NftRuleset) -> String {
        var out = "table \(ruleset.family) \(ruleset.table) {\n"
        if let comment = ruleset.comment { out += "\tcomment \"\(comment)\"\n" }
        for set in ruleset.sets {
            out += "\n\tset \(set.name) {\n"
            out += "\t\ttype \(set.kind.typeNames.joined(separator: " . "))\n"
            out += "\t\tflags interval\n"
            if set.counter { out += "\t\tcounter\n" }
            if let comment = set.comment { out += "\t\tcomment \"\(comment)\"\n" }
            if !set.elements.isEmpty {
                let items = set.elements.map { element, comment in
                    element.nftText + (comment.map { " comment \"\($0)\"" } ?? "")
                }
                out += "\t\telements = { " + items.joined(separator: ",\n\t\t\t     ") + " }\n"
            }
            out += "\t}\n"
        }
        for chain in ruleset.chains {
            out += "\n\tchain \(chain.name) {\n"
            if let hook = chain.hook {
                out += "\t\ttype \(hook.type) hook \(hook.hook) priority \(priorityText(hook.priority)); policy \(hook.policy);\n"
            }
            for rule in chain.rules { out += "\t\t\(rule.nftText)\n" }
            out += "\t}\n"
        }
        out += "}\n"
        return out
    }

    static func priorityText(_ priority: Int) -> String {
        if priority == 0 { return "filter" }
        return priority > 0 ? "filter + \(priority)" : "filter - \(-priority)"
    }
}

extension NftSet.Element {
    var nftText: String {
        switch self {
        case .protoPort(let transport, let range): return "\(transport.rawValue) . \(range)"
        case .address(let cidr): return cidr.description
        }
    }
}

extension NftRule {
    var nftText: String {
        var parts = matches.map(\.nftText)
        if counter { parts.append("counter") }
        parts.append(verdict.rawValue)
        if let comment { parts.append("comment \"\(comment)\"") }
        return parts.joined(separator: " ")
    }
}

extension NftRule.Match {
    var nftText: String {
        switch self {
        case .ctState(let states): return "ct state \(states.joined(separator: ","))"
        case .inputInterface(let name): return "iif \"\(name)\""
        case .icmpType(let types): return "icmp type { \(types.joined(separator: ", ")) }"
        case .icmpv6Type(let types): return "icmpv6 type { \(types.joined(separator: ", ")) }"
        case .tcpDestinationPorts(let ranges):
            if ranges.count == 1 { return "tcp dport \(ranges[0])" }
            return "tcp dport { \(ranges.map(\.description).joined(separator: ", ")) }"
        case .sourceAddressInSet(let family, let set): return "\(family == .ipv4 ? "ip" : "ip6") saddr @\(set)"
        case .destinationAddress(let address): return "\(address.family == .ipv4 ? "ip" : "ip6") daddr \(address.addressText)"
        case .protoPortInSet(let set): return "meta l4proto . th dport @\(set)"
        }
    }
}
