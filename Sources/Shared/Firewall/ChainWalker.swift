import PortModel

extension BlockingAnalyzer {
    /// A base chain's answer for one packet.
    enum ChainVerdict {
        case open
        case blocked(String)
        case unknown(String)
    }

    /// Follows one packet through one base chain and the chains it jumps or goes to, to the
    /// verdict. A rule that may or may not match forks the walk: both ways are followed, and the
    /// verdict is certain only when every way ends the same.
    struct ChainWalker {
        let table: TableContext
        let base: LiveRuleset.Chain
        /// What each rule does to the packet walked.
        let matcher: RuleMatcher
        /// Rule steps left before giving up: maybe-matches that jump fork the walk.
        var budget = 20_000

        init(table: TableContext, base: LiveRuleset.Chain, packet: Packet) {
            self.table = table
            self.base = base
            self.matcher = RuleMatcher(table: table, packet: packet)
        }

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
                for (condition, action) in matcher.alternatives(rule) where condition != .no {
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
    }
}
