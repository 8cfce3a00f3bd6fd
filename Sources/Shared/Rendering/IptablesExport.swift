import PortModel
import PortPlanning

/// Renders a plan as `iptables-restore` and `ip6tables-restore` input.
///
/// It declares one chain, PORTCTL, and never touches INPUT or any other chain: the output is meant
/// for `--noflush`, and the admin adds the jump from INPUT once.
public enum IptablesExport {
    public static let chain = "PORTCTL"

    /// Both families, each section labelled; `family` restricts it to one.
    public static func render(_ plan: Plan, family: IPFamily? = nil) -> String {
        let families = family.map { [$0] } ?? [.ipv4, .ipv6]
        return families.map { section(plan, family: $0) }.joined(separator: "\n")
    }

    static func section(_ plan: Plan, family: IPFamily) -> String {
        let tool = family == .ipv4 ? "iptables" : "ip6tables"
        var out = "# \(ExportText.generatedBy(plan))\n"
        out += "# \(family == .ipv4 ? "IPv4" : "IPv6"): \(tool)-restore --noflush < this section\n"
        out += "# Then, once: \(tool) -I INPUT -j \(chain)\n"
        out += "*filter\n"
        out += ":\(chain) - [0:0]\n"
        for entry in plan.inboundEntries {
            // An opening bound to one local address of the other family has no rule in this one.
            if let destination = entry.destination, destination.family != family { continue }
            let comment = NftComment("portctl \(entry.labels.joined(separator: ", "))")
            let port = entry.range.isSingle ? "\(entry.range.low)" : "\(entry.range.low):\(entry.range.high)"
            let match =
                (entry.destination.map { "-d \($0.addressText) " } ?? "")
                + "-p \(entry.transport.rawValue) -m \(entry.transport.rawValue) --dport \(port) -m comment --comment \"\(comment)\" -j ACCEPT"
            switch entry.scope {
            case .world:
                out += "-A \(chain) \(match)\n"
            case .loopback:
                out += "-A \(chain) -i lo \(match)\n"
            case .addresses(_, let cidrs):
                for cidr in cidrs where cidr.family == family {
                    out += "-A \(chain) -s \(cidr) \(match)\n"
                }
            }
        }
        out += "COMMIT\n"
        return out
    }
}
