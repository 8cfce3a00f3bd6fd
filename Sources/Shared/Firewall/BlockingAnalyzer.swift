import PortModel
import PortPlanning
import PlanRendering

/// What another table does to one planned opening.
public enum BlockingVerdict: Sendable, Hashable, CustomStringConvertible {
    /// No other base chain on the input hook drops it.
    case open
    /// A base chain of another table drops it for sure. `table` is `ip filter`, `inet firewalld`, ...;
    /// `chain` the base chain; `why` is `policy drop` or `rule 12: reject` (rule handles).
    case blocked(table: String, chain: String, why: String)
    /// A rule portctl cannot evaluate may drop it; `rule` is a short rendering of that rule.
    case unknown(table: String, chain: String, rule: String)

    public var description: String {
        switch self {
        case .open: return "open"
        case .blocked(let table, let chain, let why): return "blocked by \(table)/\(chain) (\(why))"
        case .unknown(let table, let chain, let rule): return "unknown (\(table)/\(chain): \(rule))"
        }
    }

    public var isOpen: Bool { self == .open }

    public var isBlocked: Bool {
        if case .blocked = self { return true }
        return false
    }
}

/// The verdict of the other tables on one entry of a plan, for one IP family or both.
public struct BlockingReport: Sendable, Hashable {
    public let entry: PlanEntry
    /// nil when IPv4 and IPv6 agree (or the entry only concerns one family); otherwise one report per family.
    public let family: IPFamily?
    public let verdict: BlockingVerdict

    public init(entry: PlanEntry, family: IPFamily?, verdict: BlockingVerdict) {
        self.entry = entry
        self.family = family
        self.verdict = verdict
    }
}

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

    /// What the admin can do about the reports that are not `open`: one line per blocking chain.
    public static func advice(for reports: [BlockingReport]) -> [String] {
        struct Key: Hashable {
            let table: String
            let chain: String
            let blocked: Bool
        }
        var order: [Key] = []
        var specs: [Key: [String]] = [:]
        var details: [Key: String] = [:]
        var profiles: [Key: [String]] = [:]
        for report in reports {
            let key: Key
            let detail: String
            switch report.verdict {
            case .open: continue
            case .blocked(let table, let chain, let why):
                key = Key(table: table, chain: chain, blocked: true)
                detail = why
            case .unknown(let table, let chain, let rule):
                key = Key(table: table, chain: chain, blocked: false)
                detail = rule
            }
            if specs[key] == nil {
                order.append(key)
                details[key] = detail
            }
            let family = report.family.map { $0 == .ipv4 ? " (IPv4)" : " (IPv6)" } ?? ""
            let spec = "\(report.entry.spec)\(family)"
            if !(specs[key] ?? []).contains(spec) { specs[key, default: []].append(spec) }
            profiles[key, default: []] += report.entry.profiles
        }

        return order.map { key in
            let parts = key.table.split(separator: " ", maxSplits: 1).map(String.init)
            let family = parts.first ?? key.table
            let table = parts.count > 1 ? parts[1] : ""
            let ports = specs[key]!.joined(separator: ", ")
            let plan = "portctl plan \(profiles[key]!.uniqued().joined(separator: " "))"
            let attach = "--attach '\(family) \(table) \(key.chain)'"
            let head = key.blocked
                ? "\(key.table)/\(key.chain) drops \(ports) (\(details[key]!))"
                : "portctl cannot tell whether \(key.table)/\(key.chain) drops \(ports): check \(details[key]!) by hand"
            let fix: String
            if table == "firewalld" {
                fix = "firewalld drops it: use `\(plan) --format firewalld` and add the service to the zone, or \(attach)"
            } else if (family == "ip" || family == "ip6"), table == "filter", key.chain == "INPUT" {
                let tool = family == "ip" ? "iptables" : "ip6tables"
                fix = "this is iptables (iptables-nft): use \(attach), or load `\(plan) --format iptables` with \(tool)-restore --noflush and add `\(tool) -I INPUT -j \(IptablesExport.chain)`"
            } else if table.lowercased().contains("docker") {
                fix = "Docker manages this table and rewrites it when it restarts, so attaching portctl there does not last: allow the ports in Docker's configuration instead"
            } else {
                fix = "an accept in portctl's table does not cancel a drop in another table: use \(attach) to put portctl's rules in that chain, or allow the ports there"
            }
            return "\(head); \(fix)"
        }
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
        let low = Int(entry.range.low.value), high = Int(entry.range.high.value)
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

    // MARK: - Model

    /// Three-valued logic: a match on something portctl cannot know about the packet is `maybe`.
    enum Tri: Equatable {
        case yes, no, maybe

        init(_ value: Bool) { self = value ? .yes : .no }

        func and(_ other: Tri) -> Tri {
            if self == .no || other == .no { return .no }
            return self == .maybe || other == .maybe ? .maybe : .yes
        }

        func or(_ other: Tri) -> Tri {
            if self == .yes || other == .yes { return .yes }
            return self == .maybe || other == .maybe ? .maybe : .no
        }

        var negated: Tri {
            switch self {
            case .yes: return .no
            case .no: return .yes
            case .maybe: return .maybe
            }
        }
    }

    /// The first packet of a new connection to one port of an entry.
    struct Packet {
        let family: IPFamily
        let transport: Transport
        let port: Int
        let scope: Scope

        var onLoopback: Bool { scope == .loopback }
        var protocolNumber: Int { transport == .tcp ? 6 : 17 }
    }

    /// One table's chains, sets and the port numbers its rules mention.
    struct TableContext {
        let family: String
        let name: String
        let rulesByChain: [String: [LiveRuleset.Rule]]
        let sets: [String: LiveRuleset.Set]
        /// Sorted; for every number n a rule or set mentions, n and n + 1.
        let boundaries: [Int]
        /// portctl's chain in this table (attach mode).
        let ownChain: String?

        init(_ live: LiveRuleset, family: String, name: String, ownChain: String?) {
            self.family = family
            self.name = name
            self.ownChain = ownChain
            var rulesByChain: [String: [LiveRuleset.Rule]] = [:]
            for chain in live.chains where chain.family == family && chain.table == name {
                rulesByChain[chain.name] = []
            }
            var numbers = Swift.Set<Int>()
            for rule in live.rules where rule.family == family && rule.table == name {
                rulesByChain[rule.chain, default: []].append(rule)
                rule.expr.forEach { TableContext.collect($0, into: &numbers) }
            }
            var sets: [String: LiveRuleset.Set] = [:]
            for set in live.sets where set.family == family && set.table == name {
                sets[set.name] = set
                set.elements.forEach { TableContext.collect($0, into: &numbers) }
            }
            self.rulesByChain = rulesByChain
            self.sets = sets
            self.boundaries = numbers.sorted()
        }

        static func collect(_ value: JSONValue, into numbers: inout Swift.Set<Int>) {
            switch value {
            case .int(let number) where (0...65535).contains(number):
                numbers.insert(number)
                numbers.insert(number + 1)
            case .string(let text):
                if let number = Int(text), (0...65535).contains(number) {
                    numbers.insert(number)
                    numbers.insert(number + 1)
                }
            case .array(let items): items.forEach { collect($0, into: &numbers) }
            case .object(let pairs): pairs.forEach { collect($0.1, into: &numbers) }
            default: break
            }
        }
    }

    /// What a rule does when it matches.
    enum Action {
        case none
        case accept
        case drop(String)
        case jump(String)
        case goto(String)
        case `return`
        /// A verdict portctl cannot follow (queue, an unknown xt target, a named verdict map).
        case unknown
    }

    /// A base chain's answer for one packet.
    enum ChainVerdict {
        case open
        case blocked(String)
        case unknown(String)
    }

    // MARK: - Walking a base chain

    struct ChainWalker {
        let table: TableContext
        let base: LiveRuleset.Chain
        let packet: Packet
        /// Rule steps left before giving up: maybe-matches that jump fork the walk.
        var budget = 20_000

        static let maxDepth = 16

        struct Frame {
            var chain: String
            var index: Int
        }

        enum End {
            case accept
            case drop(String)
            case unknown(String)
        }

        /// How one path through the chains ended, and the maybe-rules it assumed to match.
        struct Outcome {
            let end: End
            let assumptions: [String]
        }

        mutating func verdict() -> ChainVerdict {
            let outcomes = run([Frame(chain: base.name, index: 0)], assumptions: [])
                // An accept that needs a maybe-match does not open the port for everyone.
                .filter { outcome in
                    if case .accept = outcome.end { return outcome.assumptions.isEmpty }
                    return true
                }
            let drops = outcomes.compactMap { outcome -> (String, Bool)? in
                if case .drop(let why) = outcome.end { return (why, outcome.assumptions.isEmpty) }
                return nil
            }
            if !outcomes.isEmpty, drops.count == outcomes.count {
                return .blocked((drops.first { $0.1 } ?? drops[0]).0)
            }
            if !outcomes.isEmpty, outcomes.allSatisfy({ if case .accept = $0.end { return true } else { return false } }) {
                return .open
            }
            for outcome in outcomes {
                if case .unknown(let rule) = outcome.end { return .unknown(rule) }
            }
            for outcome in outcomes {
                if case .drop = outcome.end, let rule = outcome.assumptions.first { return .unknown(rule) }
            }
            return .unknown(outcomes.lazy.compactMap(\.assumptions.first).first ?? "too many rules to follow")
        }

        mutating func run(_ start: [Frame], assumptions: [String]) -> [Outcome] {
            var frames = start
            var outcomes: [Outcome] = []
            while true {
                guard let top = frames.last else {
                    let end: End = base.policy == "drop" ? .drop("policy drop") : .accept
                    outcomes.append(Outcome(end: end, assumptions: assumptions))
                    return outcomes
                }
                guard budget > 0 else {
                    outcomes.append(Outcome(end: .unknown("too many rules and branches to follow"), assumptions: assumptions))
                    return outcomes
                }
                budget -= 1
                let rules = table.rulesByChain[top.chain] ?? []
                guard top.index < rules.count else {
                    frames.removeLast()
                    continue
                }
                let rule = rules[top.index]
                frames[frames.count - 1].index += 1
                for (condition, action) in alternatives(rule) where condition != .no {
                    if condition == .yes {
                        if let end = apply(action, to: &frames, rule: rule, in: top.chain) {
                            outcomes.append(Outcome(end: end, assumptions: assumptions))
                            return outcomes
                        }
                        break
                    }
                    // A maybe-match: an accept (or nothing) changes nothing for everyone; anything else forks.
                    switch action {
                    case .none, .accept: continue
                    case .jump(let target) where target == table.ownChain: continue
                    case .goto(let target) where target == table.ownChain: continue
                    default: break
                    }
                    var branch = frames
                    let assumed = assumptions + [render(rule, in: top.chain)]
                    if let end = apply(action, to: &branch, rule: rule, in: top.chain) {
                        outcomes.append(Outcome(end: end, assumptions: assumed))
                    } else {
                        outcomes += run(branch, assumptions: assumed)
                    }
                }
            }
        }

        /// Applies a matched rule's action: an end of the walk, or nil to go on with `frames`.
        func apply(_ action: Action, to frames: inout [Frame], rule: LiveRuleset.Rule, in chain: String) -> End? {
            switch action {
            case .none: return nil
            case .accept: return .accept
            case .drop(let kind): return .drop("\(ruleName(rule, in: chain)): \(kind)")
            case .unknown: return .unknown(render(rule, in: chain))
            case .return:
                frames.removeLast()
                return nil
            case .jump(let target), .goto(let target):
                if target == table.ownChain { return .accept }
                guard table.rulesByChain[target] != nil else {
                    return .unknown("\(render(rule, in: chain)) (no chain \(target))")
                }
                if case .jump = action {
                    guard frames.count < ChainWalker.maxDepth else {
                        return .unknown("\(render(rule, in: chain)) (jumps nest deeper than \(ChainWalker.maxDepth))")
                    }
                    frames.append(Frame(chain: target, index: 0))
                } else {
                    frames[frames.count - 1] = Frame(chain: target, index: 0)
                }
                return nil
            }
        }

        func ruleName(_ rule: LiveRuleset.Rule, in chain: String) -> String {
            let name = rule.handle.map { "rule \($0)" } ?? "a rule"
            return chain == base.name ? name : "\(name) in \(chain)"
        }

        /// `rule 12: meta mark 1 drop`, counters left out, at most 160 characters.
        func render(_ rule: LiveRuleset.Rule, in chain: String) -> String {
            let text = "\(ruleName(rule, in: chain)): \(RuleText.render(rule.expr))"
            return text.count > 160 ? String(text.prefix(159)) + "…" : text
        }

        // MARK: Rules

        static let ignoredStatements: Swift.Set<String> = [
            "counter", "log", "mangle", "notrack", "ct helper", "ct timeout", "ct expectation", "dup", "last",
            "secmark", "continue",
        ]
        static let conditionalStatements: Swift.Set<String> = ["limit", "quota", "ct count", "meter", "set", "map"]
        static let ignoredTargets: Swift.Set<String> = [
            "LOG", "NFLOG", "ULOG", "MARK", "CONNMARK", "TRACE", "CT", "AUDIT", "CLASSIFY", "TCPMSS", "DSCP", "TOS",
            "CHECKSUM", "SET", "NOTRACK", "IDLETIMER", "LED", "SECMARK", "CONNSECMARK",
        ]

        /// The mutually exclusive ways a rule can act on the packet: a condition and an action each.
        /// No alternative matching means the walk goes on with the next rule.
        func alternatives(_ rule: LiveRuleset.Rule) -> [(Tri, Action)] {
            var condition = Tri.yes
            var opaque = false
            for statement in rule.expr {
                guard let key = statement.soleKey, let body = statement[key] else {
                    opaque = true
                    condition = condition.and(.maybe)
                    continue
                }
                switch key {
                case "match":
                    condition = condition.and(match(body))
                    if condition == .no { return [] }
                case "accept": return [(condition, .accept)]
                case "drop": return [(condition, .drop("drop"))]
                case "reject": return [(condition, .drop("reject"))]
                case "return": return [(condition, .return)]
                case "jump", "goto":
                    guard let target = body["target"]?.string else { return [(condition, .unknown)] }
                    return [(condition, key == "jump" ? .jump(target) : .goto(target))]
                case "vmap":
                    return verdictMap(body).map { (condition.and($0.0), $0.1) }
                case "xt":
                    let name = body["name"]?.string ?? ""
                    if body["type"]?.string == "target" {
                        switch name {
                        case "REJECT": return [(condition, .drop("reject"))]
                        case "DROP": return [(condition, .drop("drop"))]
                        case "ACCEPT": return [(condition, .accept)]
                        case "RETURN": return [(condition, .return)]
                        case _ where ChainWalker.ignoredTargets.contains(name): continue
                        default: return [(condition, .unknown)]
                        }
                    }
                    // An xt match hides its arguments from the JSON; only `-m comment` is known to match.
                    if name != "comment" { condition = condition.and(.maybe) }
                case _ where ChainWalker.ignoredStatements.contains(key): continue
                case _ where ChainWalker.conditionalStatements.contains(key): condition = condition.and(.maybe)
                default:
                    opaque = true
                    condition = condition.and(.maybe)
                }
            }
            return [(condition, opaque ? .unknown : .none)]
        }

        /// `tcp dport vmap { 25 : drop, 110 : accept }`: one alternative per element that may match.
        func verdictMap(_ body: JSONValue) -> [(Tri, Action)] {
            guard let key = body["key"], let pairs = body["data"]?["set"]?.array else { return [(.yes, .unknown)] }
            let field = self.field(key)
            if case .absent = field { return [] }
            var result: [(Tri, Action)] = []
            for pair in pairs {
                guard let items = pair.array, items.count == 2 else { return [(.maybe, .unknown)] }
                let condition = elementMatch(field, items[0])
                guard condition != .no else { continue }
                let verdict = items[1]
                let action: Action
                switch verdict.soleKey {
                case "accept": action = .accept
                case "drop": action = .drop("drop")
                case "reject": action = .drop("reject")
                case "return": action = .return
                case "continue": action = .none
                case "jump": action = verdict["jump"]?["target"]?.string.map { .jump($0) } ?? .unknown
                case "goto": action = verdict["goto"]?["target"]?.string.map { .goto($0) } ?? .unknown
                default: action = .unknown
                }
                result.append((condition, action))
            }
            return result
        }

        // MARK: Matches

        /// What the left side of a match reads from the packet.
        indirect enum Field {
            case l4proto
            case dport
            case nfproto
            case ethertype
            case ctState
            case interfaceName
            case interfaceIndex
            case saddr
            case concat([Field])
            /// The packet does not have this header (a `tcp` field on a UDP packet, `ip` on IPv6): no match.
            case absent
            /// Something portctl does not know about the packet.
            case opaque
        }

        func match(_ body: JSONValue) -> Tri {
            guard let left = body["left"], let right = body["right"] else { return .maybe }
            let field = self.field(left)
            if case .absent = field { return .no }
            switch body["op"]?.string ?? "==" {
            case "==", "in": return membership(field, right)
            case "!=": return membership(field, right).negated
            case let op where ["<", ">", "<=", ">="].contains(op):
                guard case .dport = field, let bound = number(right) else { return .maybe }
                let port = packet.port
                switch op {
                case "<": return Tri(port < bound)
                case ">": return Tri(port > bound)
                case "<=": return Tri(port <= bound)
                default: return Tri(port >= bound)
                }
            default: return .maybe
            }
        }

        func field(_ left: JSONValue) -> Field {
            if let meta = left["meta"], let key = meta["key"]?.string {
                switch key {
                case "l4proto": return .l4proto
                case "nfproto": return .nfproto
                case "protocol": return .ethertype
                case "iifname": return .interfaceName
                case "iif": return .interfaceIndex
                default: return .opaque
                }
            }
            if let payload = left["payload"] {
                guard let proto = payload["protocol"]?.string, let name = payload["field"]?.string else { return .opaque }
                if headerAbsent(proto) == true { return .absent }
                switch (proto, name) {
                case ("ip", "protocol"), ("ip6", "nexthdr"): return .l4proto
                case ("ip", "saddr"), ("ip6", "saddr"): return .saddr
                case ("tcp", "dport"), ("udp", "dport"), ("th", "dport"): return .dport
                default: return .opaque
                }
            }
            if let ct = left["ct"], ct["key"]?.string == "state", ct["dir"] == nil { return .ctState }
            if let items = left["concat"]?.array {
                let fields = items.map(field)
                if fields.contains(where: { if case .absent = $0 { return true } else { return false } }) { return .absent }
                return .concat(fields)
            }
            return impliesAbsentHeader(left) ? .absent : .opaque
        }

        /// True when the packet has no such header, false when it has, nil when portctl cannot tell.
        func headerAbsent(_ proto: String) -> Bool? {
            switch proto {
            case "ip": return packet.family != .ipv4
            case "ip6": return packet.family != .ipv6
            case "tcp", "udp": return proto != packet.transport.rawValue
            case "th": return false
            case "icmp", "icmpv6", "igmp", "sctp", "dccp", "udplite", "esp", "ah", "comp", "gre", "ipcomp":
                return true
            default: return nil
            }
        }

        /// An expression such as `tcp flags & syn` reads a header: on a packet without it, nothing matches.
        func impliesAbsentHeader(_ value: JSONValue) -> Bool {
            switch value {
            case .object(let pairs):
                for (key, inner) in pairs {
                    if key == "payload", let proto = inner["protocol"]?.string, headerAbsent(proto) == true { return true }
                    if key == "tcp option", packet.transport != .tcp { return true }
                    if impliesAbsentHeader(inner) { return true }
                }
                return false
            case .array(let items): return items.contains(where: impliesAbsentHeader)
            default: return false
            }
        }

        /// Whether the packet's field is in the right side: a value, a range, an anonymous set, a named set.
        func membership(_ field: Field, _ right: JSONValue) -> Tri {
            guard let elements = elements(right) else { return .maybe }
            if case .saddr = field { return sourceMembership(elements) }
            return elements.reduce(Tri.no) { $0.or(elementMatch(field, $1)) }
        }

        func elements(_ right: JSONValue) -> [JSONValue]? {
            if let name = right.string, name.hasPrefix("@") {
                return table.sets[String(name.dropFirst())]?.elements
            }
            if let items = right["set"]?.array { return items }
            if let items = right.array { return items }
            if let item = right["set"] { return [item] }
            return [right]
        }

        static func unwrap(_ element: JSONValue) -> JSONValue {
            element["elem"]?["val"] ?? element
        }

        func elementMatch(_ field: Field, _ element: JSONValue) -> Tri {
            let value = ChainWalker.unwrap(element)
            switch field {
            case .l4proto: return numberMatch(packet.protocolNumber, value, names: ChainWalker.protocolNumbers)
            case .dport: return numberMatch(packet.port, value, names: [:])
            case .nfproto:
                return numberMatch(packet.family == .ipv4 ? 2 : 10, value, names: ["ipv4": 2, "ipv6": 10])
            case .ethertype:
                return numberMatch(packet.family == .ipv4 ? 0x0800 : 0x86dd, value, names: ["ip": 0x0800, "ip6": 0x86dd])
            case .ctState:
                guard let state = value.string else { return .maybe }
                return Tri(state == "new")
            case .interfaceName:
                guard let name = value.string else { return .maybe }
                if packet.onLoopback { return ChainWalker.interfaceName(name, matches: "lo") }
                if name == "lo" { return .no }
                return name == "*" ? .yes : .maybe
            case .interfaceIndex:
                // `iif lo` lists as the name; loopback is always index 1.
                if let name = value.string {
                    if packet.onLoopback { return Tri(name == "lo") }
                    return name == "lo" ? .no : .maybe
                }
                guard let index = value.int else { return .maybe }
                if packet.onLoopback { return Tri(index == 1) }
                return index == 1 ? .no : .maybe
            case .saddr: return sourceMembership([value])
            case .concat(let fields):
                guard let parts = value["concat"]?.array, parts.count == fields.count else { return .maybe }
                return zip(fields, parts).reduce(Tri.yes) { $0.and(elementMatch($1.0, $1.1)) }
            case .absent: return .no
            case .opaque: return .maybe
            }
        }

        static let protocolNumbers: [String: Int] = [
            "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "pup": 12, "udp": 17, "idp": 22, "tp": 29, "dccp": 33,
            "ipv6": 41, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "icmpv6": 58, "ipv6-icmp": 58, "mtp": 92,
            "encap": 98, "pim": 103, "comp": 108, "sctp": 132, "udplite": 136, "mpls-in-ip": 137,
        ]

        /// A number, a numeric string, a name from `names`, or `{"range": [a, b]}` of those.
        func numberMatch(_ actual: Int, _ value: JSONValue, names: [String: Int]) -> Tri {
            if let bounds = value["range"]?.array, bounds.count == 2 {
                guard let low = number(bounds[0], names: names), let high = number(bounds[1], names: names) else {
                    return .maybe
                }
                return Tri(low <= actual && actual <= high)
            }
            guard let expected = number(value, names: names) else { return .maybe }
            return Tri(actual == expected)
        }

        func number(_ value: JSONValue, names: [String: Int] = [:]) -> Int? {
            if let number = value.int { return number }
            if let text = value.string { return Int(text) ?? names[text] }
            return nil
        }

        /// `eth*` matches every name that starts with `eth`.
        static func interfaceName(_ pattern: String, matches name: String) -> Tri {
            if pattern.hasSuffix("*"), !pattern.hasSuffix("\\*") { return Tri(name.hasPrefix(pattern.dropLast())) }
            return Tri(pattern == name)
        }

        /// `ip saddr` against prefixes and addresses. Only a source set is known exactly: every network of
        /// it inside the right side is a match, none overlapping is none; anything else (everyone,
        /// loopback, address ranges) is maybe.
        func sourceMembership(_ elements: [JSONValue]) -> Tri {
            guard case .addresses(_, let cidrs) = packet.scope else { return .maybe }
            let mine = cidrs.filter { $0.family == packet.family }
            guard !mine.isEmpty else { return .maybe }
            let results = mine.map { source -> Tri in
                var result = Tri.no
                for element in elements.map(ChainWalker.unwrap) {
                    guard let network = ChainWalker.network(element) else {
                        result = result.or(.maybe)
                        continue
                    }
                    if network.contains(source) { return .yes }
                    if source.contains(network) { result = result.or(.maybe) }
                }
                return result
            }
            if results.allSatisfy({ $0 == .yes }) { return .yes }
            if results.allSatisfy({ $0 == .no }) { return .no }
            return .maybe
        }

        static func network(_ value: JSONValue) -> CIDR? {
            if let text = value.string { return try? CIDR(parsing: text) }
            if let prefix = value["prefix"], let address = prefix["addr"]?.string, let length = prefix["len"]?.int {
                return try? CIDR(parsing: "\(address)/\(length)")
            }
            return nil
        }
    }
}

extension BlockingAnalyzer {
    /// A rule's statements in nft's own syntax, as far as portctl knows it; compact JSON for the rest.
    package enum RuleText {
        package static func render(_ statements: [JSONValue]) -> String {
            statements.filter { $0.soleKey != "counter" }.map(statement).joined(separator: " ")
        }

        static func statement(_ value: JSONValue) -> String {
            guard let key = value.soleKey, let body = value[key] else { return value.compact }
            switch key {
            case "match":
                guard let left = body["left"], let right = body["right"] else { return value.compact }
                let op = body["op"]?.string ?? "=="
                let shownOp = op == "==" || op == "in" ? "" : "\(op) "
                return "\(expression(left)) \(shownOp)\(expression(right))"
            case "accept", "drop", "return", "continue": return key
            case "reject":
                guard let type = body["type"]?.string else { return "reject" }
                return body["expr"]?.string.map { "reject with \(type) \($0)" } ?? "reject with \(type)"
            case "jump", "goto": return body["target"]?.string.map { "\(key) \($0)" } ?? value.compact
            case "xt":
                let kind = body["type"]?.string == "target" ? "-j" : "-m"
                return body["name"]?.string.map { "xt \(kind) \($0)" } ?? value.compact
            case "log": return "log"
            case "vmap":
                guard let key = body["key"], let data = body["data"] else { return value.compact }
                return "\(expression(key)) vmap \(expression(data))"
            default: return value.compact
            }
        }

        static func expression(_ value: JSONValue) -> String {
            switch value {
            case .string(let text): return text.allSatisfy { $0.isLetter || $0.isNumber || "@_-.:/".contains($0) } ? text : "\"\(text)\""
            case .int(let number): return String(number)
            case .array(let items): return items.map(expression).joined(separator: ",")
            case .object:
                guard let key = value.soleKey, let body = value[key] else { return value.compact }
                switch key {
                case "payload":
                    guard let proto = body["protocol"]?.string, let field = body["field"]?.string else { return value.compact }
                    return "\(proto) \(field)"
                case "meta":
                    guard let name = body["key"]?.string else { return value.compact }
                    return ["iif", "iifname", "oif", "oifname"].contains(name) ? name : "meta \(name)"
                case "ct":
                    guard let name = body["key"]?.string else { return value.compact }
                    return body["dir"]?.string.map { "ct \($0) \(name)" } ?? "ct \(name)"
                case "fib":
                    guard let result = body["result"]?.string else { return value.compact }
                    let flags = body["flags"]?.array?.compactMap(\.string) ?? body["flags"]?.string.map { [$0] } ?? []
                    return "fib \(flags.joined(separator: " . ")) \(result)"
                case "set":
                    let items = body.array ?? [body]
                    return "{ \(items.map(element).joined(separator: ", ")) }"
                case "range":
                    guard let bounds = body.array, bounds.count == 2 else { return value.compact }
                    return "\(expression(bounds[0]))-\(expression(bounds[1]))"
                case "prefix":
                    guard let address = body["addr"]?.string, let length = body["len"]?.int else { return value.compact }
                    return "\(address)/\(length)"
                case "concat":
                    return (body.array ?? []).map(expression).joined(separator: " . ")
                case "elem":
                    return body["val"].map(expression) ?? value.compact
                default: return value.compact
                }
            default: return value.compact
            }
        }

        /// A set element: a value, or `key : verdict` in a verdict map.
        static func element(_ value: JSONValue) -> String {
            if let pair = value.array, pair.count == 2, pair[1].soleKey != nil, pair[1].soleKey != "concat" {
                return "\(expression(pair[0])) : \(statement(pair[1]))"
            }
            return expression(value)
        }
    }
}
