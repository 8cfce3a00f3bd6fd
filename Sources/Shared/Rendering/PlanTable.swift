import PortModel
import PortPlanning

/// Renders a plan as the table admins read: port, transport, direction, source, purpose and profile.
public enum PlanTable {
    public static func render(_ plan: Plan) -> String {
        // A TO column only when some opening is limited to one local address (`--config`).
        let bound = plan.entries.contains { $0.destination != nil }
        var rows: [[String]] = [["PORT", "PROTO", "DIR", "FROM"] + (bound ? ["TO"] : []) + ["PURPOSE", "PROFILE"]]
        for entry in plan.entries {
            rows.append(
                [entry.range.description, entry.transport.rawValue, entry.direction.rawValue, from(entry.scope)]
                    + (bound ? [entry.destination?.addressText ?? "any"] : [])
                    + [entry.purposes.joined(separator: "; "), entry.citedLabels.joined(separator: ", ")])
        }
        var out = "Plan: \(plan.profiles.map { "\($0.name) (\($0.title))" }.joined(separator: ", "))\n"
        for profile in plan.profiles {
            guard let configuration = profile.configuration else { continue }
            out += "Configuration: \(configuration.files.joined(separator: ", ")) (\(configuration.kind))\n"
        }
        if !plan.options.isEmpty { out += "Options: \(plan.options.joined(separator: ", "))\n" }
        out += "\n" + layout(rows)
        if !plan.closed.isEmpty {
            out += "\nLeft closed:\n"
            for item in plan.closed {
                let ports = item.ports.isEmpty ? "" : "\(item.ports.map(\.description).joined(separator: ", ")) "
                let citation = item.citation.map { " (\($0))" } ?? ""
                out += "  \(ports)\(item.profile)/\(item.opening): \(item.reason)\(citation)\n"
            }
        }
        let guardText = plan.sshPorts.isEmpty ? "off" : plan.sshPorts.map { "\($0)/tcp" }.joined(separator: ", ")
        out += "\nSSH guard: \(guardText)\n"
        let ruleset = RulesetBuilder.standalone(plan)
        out += "nftables: \(ruleset.ruleCount) rules, \(ruleset.sets.count) sets in table inet \(ruleset.table)\n"
        return out
    }

    static func from(_ scope: Scope) -> String {
        switch scope {
        case .world: return "any"
        case .loopback: return "loopback"
        case .addresses(let set, let cidrs):
            if cidrs.count <= 2 { return "\(set): " + cidrs.map(\.description).joined(separator: ", ") }
            return "\(set): \(cidrs.count) networks"
        }
    }

    /// Left-aligned columns separated by two spaces; the last column is not padded.
    public static func layout(_ rows: [[String]]) -> String {
        guard let columns = rows.first?.count else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == columns - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
