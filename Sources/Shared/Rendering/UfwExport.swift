import PortModel
import PortPlanning

/// Renders a plan as ufw application profiles (ufw-framework(8), "APPLICATION INTEGRATION").
///
/// One section for the openings to everyone, and one per source set, because an application
/// profile holds ports only; the comment under each section gives the `ufw allow from` line.
public enum UfwExport {
    /// ufw joins at most 15 ports in one multiport list.
    static let maxListed = 15

    public static func render(_ plan: Plan) -> String {
        let base = String(ExportText.serviceName(plan).prefix(56))
        var out = "# \(ExportText.generatedBy(plan))\n"
        out += "# Install: save as /etc/ufw/applications.d/\(base), then run 'ufw app update \(base)'.\n"
        for (scope, entries) in ExportText.scoped(plan) {
            let name: String
            let who: String
            switch scope {
            case .world:
                name = base
                who = "everyone"
            case .loopback:
                name = "\(base)-loopback"
                who = "this host only"
            case .addresses(let set, _):
                name = "\(base)-\(set)"
                who = set
            }
            out += "\n[\(name)]\n"
            out += "title=\(ExportText.oneLine(ExportText.title(plan))) (\(who))\n"
            let purposes = entries.flatMap(\.contributions).map { "\($0.label) \($0.spec)" }.uniqued()
            out += "description=\(ExportText.oneLine(purposes.joined(separator: "; ")))\n"
            out += "ports=\(ports(entries))\n"
            switch scope {
            case .world: out += "# ufw allow \(name)\n"
            case .loopback: out += "# ufw already accepts loopback traffic; nothing to allow\n"
            case .addresses(_, let cidrs):
                for cidr in cidrs { out += "# ufw allow from \(cidr) to any app \(name)\n" }
            }
        }
        return out
    }

    /// `554,7070/tcp|6970:6999/udp`: single ports listed per transport, ranges on their own.
    static func ports(_ entries: [PlanEntry]) -> String {
        var parts: [String] = []
        for transport in Transport.allCases {
            let mine = entries.filter { $0.transport == transport }.sorted { $0.range < $1.range }
            let singles = mine.filter(\.range.isSingle).map { "\($0.range.low)" }
            var start = 0
            while start < singles.count {
                let chunk = singles[start..<min(start + maxListed, singles.count)]
                parts.append(chunk.joined(separator: ",") + "/\(transport.rawValue)")
                start += maxListed
            }
            for entry in mine where !entry.range.isSingle {
                parts.append("\(entry.range.low):\(entry.range.high)/\(transport.rawValue)")
            }
        }
        return parts.joined(separator: "|")
    }
}
