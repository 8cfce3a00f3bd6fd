import PortModel
import PortPlanning

/// What the admin can do about one base chain of another table that drops, or may drop, planned
/// ports. The facts and the fix are values: the library decides what to suggest, and portctl's
/// command line words it (`status` and `doctor` print the same hint).
public struct BlockingAdvice: Sendable, Hashable {
    /// Whether the chain drops the ports for sure, or portctl cannot tell.
    public enum Finding: Sendable, Hashable {
        /// `why` as in `BlockingVerdict.blocked`: `policy drop`, `rule 12: reject`.
        case drops(why: String)
        /// `rule` as in `BlockingVerdict.unknown`: the rule to check by hand.
        case mayDrop(rule: String)
    }

    /// Where `--attach` would put portctl's chain: the dropping chain itself, so that its jump to
    /// portctl's chain comes before the drop.
    public struct AttachPoint: Sendable, Hashable {
        /// `ip`, `ip6`, `inet`.
        public let family: String
        public let table: String
        public let chain: String
    }

    /// The way out, which depends on who manages the table.
    public enum Fix: Sendable, Hashable {
        /// firewalld's table: export the plan (`profiles`) as a firewalld service and add it to the
        /// zone, or attach.
        case firewalldService(profiles: [String], attach: AttachPoint)
        /// iptables-nft's filter INPUT chain, of `family`: attach, or load the plan's iptables export
        /// next to the rules iptables already has and jump to it from INPUT.
        case iptablesRestore(family: IPFamily, profiles: [String], attach: AttachPoint)
        /// A table of Docker's: Docker rewrites it when it restarts, so attaching portctl there does
        /// not last; the ports must be allowed in Docker's configuration.
        case dockerConfiguration
        /// Any other table: attach portctl's chain there, or allow the ports in it.
        case attach(AttachPoint)
    }

    /// One planned port spec the chain drops; `family` is set when the families' verdicts differ.
    public struct Ports: Sendable, Hashable {
        public let spec: PortSpec
        public let family: IPFamily?
    }

    /// The table as verdicts name it (`ip filter`, `inet firewalld`) and its base chain.
    public let table: String
    public let chain: String
    public let finding: Finding
    /// Each once, in the order of the reports.
    public let ports: [Ports]
    public let fix: Fix
}

extension BlockingAnalyzer {
    /// What the admin can do about the reports that are not `open`: one advice per blocking chain
    /// (a chain that drops some ports for sure and may drop others gets one of each).
    public static func advice(for reports: [BlockingReport]) -> [BlockingAdvice] {
        struct Key: Hashable {
            let table: String
            let chain: String
            let blocked: Bool
        }
        var order: [Key] = []
        var findings: [Key: BlockingAdvice.Finding] = [:]
        var ports: [Key: [BlockingAdvice.Ports]] = [:]
        var profiles: [Key: [String]] = [:]
        for report in reports {
            let key: Key
            let finding: BlockingAdvice.Finding
            switch report.verdict {
            case .open: continue
            case .blocked(let table, let chain, let why):
                key = Key(table: table, chain: chain, blocked: true)
                finding = .drops(why: why)
            case .unknown(let table, let chain, let rule):
                key = Key(table: table, chain: chain, blocked: false)
                finding = .mayDrop(rule: rule)
            }
            if findings[key] == nil {
                order.append(key)
                findings[key] = finding
            }
            let spec = BlockingAdvice.Ports(spec: report.entry.spec, family: report.family)
            if !(ports[key] ?? []).contains(spec) { ports[key, default: []].append(spec) }
            profiles[key, default: []] += report.entry.profiles
        }
        return order.map { key in
            BlockingAdvice(
                table: key.table, chain: key.chain, finding: findings[key]!, ports: ports[key]!,
                fix: fix(table: key.table, chain: key.chain, profiles: profiles[key]!.uniqued()))
        }
    }

    /// The fix for a chain of `table` (`family name`), from who manages that table: firewalld,
    /// iptables-nft (its filter INPUT chain), Docker, or anyone else.
    static func fix(table id: String, chain: String, profiles: [String]) -> BlockingAdvice.Fix {
        let parts = id.split(separator: " ", maxSplits: 1).map(String.init)
        let family = parts.first ?? id
        let table = parts.count > 1 ? parts[1] : ""
        let attach = BlockingAdvice.AttachPoint(family: family, table: table, chain: chain)
        if table == "firewalld" { return .firewalldService(profiles: profiles, attach: attach) }
        if family == "ip" || family == "ip6", table == "filter", chain == "INPUT" {
            return .iptablesRestore(family: family == "ip" ? .ipv4 : .ipv6, profiles: profiles, attach: attach)
        }
        if table.lowercased().contains("docker") { return .dockerConfiguration }
        return .attach(attach)
    }
}
