import PortModel
import PortPlanning

/// Renders a plan as a firewalld service definition (firewalld.service(5), config/xmlschema/service.xsd).
///
/// A service cannot carry source addresses, so it holds the openings for everyone; openings limited
/// to a source set are listed, in comments, as the rich rules that express them.
public enum FirewalldExport {
    public static func render(_ plan: Plan) -> String {
        let name = ExportText.serviceName(plan)
        var out = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
        out += "<!-- \(comment(ExportText.generatedBy(plan))).\n"
        out += "     Install it as /etc/firewalld/services/\(name).xml, reload firewalld,\n"
        out += "     then add the service \(name) to your zone. -->\n"
        let groups = ExportText.scoped(plan)
        for (scope, entries) in groups where scope != .world {
            switch scope {
            case .loopback:
                out +=
                    "<!-- Loopback only, which firewalld already accepts: \(comment(entries.map(\.spec.description).joined(separator: ", "))) -->\n"
            case .addresses(let set, let cidrs):
                out += "<!-- Open to \(comment(set)) only. A service cannot hold sources; add these rich rules instead:\n"
                for cidr in cidrs {
                    for entry in entries {
                        let family = cidr.family == .ipv4 ? "ipv4" : "ipv6"
                        out +=
                            "     rule family=\"\(family)\" source address=\"\(cidr)\" port port=\"\(entry.range)\" protocol=\"\(entry.transport.rawValue)\" accept\n"
                    }
                }
                out += "-->\n"
            case .world: break
            }
        }
        out += "<service>\n"
        out += "  <short>\(escape(String(ExportText.title(plan).prefix(120))))</short>\n"
        let purposes = plan.inboundEntries.filter { $0.scope == .world }.flatMap(\.contributions).map { "\($0.spec) \($0.purpose)" }
        var description = plan.profiles.map { $0.description ?? $0.title }.map(ExportText.oneLine).joined(separator: " ")
        if !purposes.isEmpty { description += " Ports: " + purposes.joined(separator: "; ") + "." }
        out += "  <description>\(escape(description.trimmingWhitespace()))</description>\n"
        for entry in plan.inboundEntries where entry.scope == .world {
            let port = entry.range.isSingle ? "\(entry.range.low)" : "\(entry.range.low)-\(entry.range.high)"
            out += "  <port protocol=\"\(entry.transport.rawValue)\" port=\"\(port)\"/>\n"
        }
        out += "</service>\n"
        return out
    }

    static func escape(_ text: String) -> String { XMLText.escape(text) }

    /// XML comments may not contain "--".
    static func comment(_ text: String) -> String {
        var out = ExportText.oneLine(text)
        while out.contains("--") { out = out.replacingAll("--", with: "- -") }
        return out
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}
