import PortModel

extension BlockingAnalyzer {
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

    /// What one rule does to one packet: the statements a rule can hold, read in order, give the
    /// conditions under which it acts and the action it takes.
    struct RuleMatcher {
        let table: TableContext
        let packet: Packet

        /// For the extensions in other files, which do not see BlockingAnalyzer's own names.
        typealias Tri = BlockingAnalyzer.Tri

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
                        case _ where RuleMatcher.ignoredTargets.contains(name): continue
                        default: return [(condition, .unknown)]
                        }
                    }
                    // An xt match hides its arguments from the JSON; only `-m comment` is known to match.
                    if name != "comment" { condition = condition.and(.maybe) }
                case _ where RuleMatcher.ignoredStatements.contains(key): continue
                case _ where RuleMatcher.conditionalStatements.contains(key): condition = condition.and(.maybe)
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
    }
}
