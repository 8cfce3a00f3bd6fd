import PortModel
import PortPlanning

/// Tells whether another table's base chain on the input hook drops what a plan opens.
///
/// In nftables a packet passes the input hook only if no base chain on it, in any table, drops it:
/// an accept in portctl's table does not cancel a drop in firewalld's or iptables-nft's. The analyzer
/// models one new TCP or UDP connection to each port of an entry (from the entry's sources, on a
/// non-loopback interface unless the entry is loopback-only) and walks every other filter base chain
/// on the input hook, following jumps and gotos. It is conservative: it never says `open` when a
/// drop is possible, and says `unknown` when a rule it cannot evaluate could decide.
public enum BlockingAnalyzer {
    /// `ownTable` is portctl's own table, skipped (e.g. ("inet", "portctl")). In attach mode portctl's
    /// chain lives in the admin's table: pass `ownChain` (family, table, chain), and a jump or goto to it
    /// counts as accepting the planned ports.
    public static func analyze(
        _ live: LiveRuleset, entries: [PlanEntry], ownTable: (family: String, name: String)?,
        ownChain: (family: String, table: String, chain: String)? = nil
    ) -> [BlockingReport] {
        let bases = live.chains.enumerated().filter { _, chain in
            guard chain.isBase, chain.hook == "input", (chain.type ?? "filter") == "filter",
                ["inet", "ip", "ip6"].contains(chain.family)
            else { return false }
            if let ownTable, chain.family == ownTable.family, chain.table == ownTable.name { return false }
            if let ownChain, chain.family == ownChain.family, chain.table == ownChain.table, chain.name == ownChain.chain {
                return false
            }
            return true
        }
        .sorted { ($0.element.priority ?? 0, $0.offset) < ($1.element.priority ?? 0, $1.offset) }
        .map(\.element)

        var tables: [String: TableContext] = [:]
        for chain in bases where tables[chain.tableID] == nil {
            let own = ownChain.flatMap { $0.family == chain.family && $0.table == chain.table ? $0.chain : nil }
            tables[chain.tableID] = TableContext(live, family: chain.family, name: chain.table, ownChain: own)
        }

        var reports: [BlockingReport] = []
        for entry in entries {
            var verdicts: [(IPFamily, BlockingVerdict)] = []
            for family in families(of: entry.scope) {
                var blocked: BlockingVerdict?
                var unknown: BlockingVerdict?
                for chain in bases where covers(chain.family, family) {
                    let verdict = evaluate(chain, in: tables[chain.tableID]!, entry: entry, family: family)
                    switch verdict {
                    case .open: break
                    case .blocked: if blocked == nil { blocked = verdict }
                    case .unknown: if unknown == nil { unknown = verdict }
                    }
                    if blocked != nil { break }
                }
                verdicts.append((family, blocked ?? unknown ?? .open))
            }
            if verdicts.count > 1, verdicts.contains(where: { $0.1 != verdicts[0].1 }) {
                reports += verdicts.map { BlockingReport(entry: entry, family: $0.0, verdict: $0.1) }
            } else {
                reports.append(BlockingReport(entry: entry, family: nil, verdict: verdicts.first?.1 ?? .open))
            }
        }
        return reports
    }

    // MARK: - Entries, families, ports

    static func families(of scope: Scope) -> [IPFamily] {
        if case .addresses(_, let cidrs) = scope, !cidrs.isEmpty {
            return [IPFamily.ipv4, .ipv6].filter { family in cidrs.contains { $0.family == family } }
        }
        return [.ipv4, .ipv6]
    }

    static func covers(_ chainFamily: String, _ family: IPFamily) -> Bool {
        switch chainFamily {
        case "ip": return family == .ipv4
        case "ip6": return family == .ipv6
        default: return true
        }
    }

    /// The verdict of one base chain on every port of an entry, for one family. The ports are split at
    /// every number the chain's table mentions, so one port per piece stands for the whole piece.
    static func evaluate(_ chain: LiveRuleset.Chain, in table: TableContext, entry: PlanEntry, family: IPFamily)
        -> BlockingVerdict
    {
        let low = Int(entry.range.low.value)
        let high = Int(entry.range.high.value)
        let points = [low] + table.boundaries.filter { $0 > low && $0 <= high }
        var blockedPieces: [(low: Int, high: Int)] = []
        var firstWhy: String?
        var unknown: String?
        for (index, point) in points.enumerated() {
            let end = index + 1 < points.count ? points[index + 1] - 1 : high
            let packet = Packet(family: family, transport: entry.transport, port: point, scope: entry.scope)
            var walker = ChainWalker(table: table, base: chain, packet: packet)
            switch walker.verdict() {
            case .open: break
            case .blocked(let why):
                if firstWhy == nil { firstWhy = why }
                if let last = blockedPieces.last, last.high + 1 == point {
                    blockedPieces[blockedPieces.count - 1].high = end
                } else {
                    blockedPieces.append((point, end))
                }
            case .unknown(let rule):
                if unknown == nil { unknown = rule }
            }
        }
        if let firstWhy {
            var why = firstWhy
            if blockedPieces.count != 1 || blockedPieces[0].low != low || blockedPieces[0].high != high {
                let shown = blockedPieces.prefix(3).map { $0.low == $0.high ? "\($0.low)" : "\($0.low)-\($0.high)" }
                why += " for ports \(shown.joined(separator: ", "))\(blockedPieces.count > 3 ? ", ..." : "")"
            }
            return .blocked(table: chain.tableID, chain: chain.name, why: why)
        }
        if let unknown { return .unknown(table: chain.tableID, chain: chain.name, rule: unknown) }
        return .open
    }
}
