import PortModel
import PortPlanning

extension BlockingAnalyzer {
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
                for value in rule.expr { TableContext.collect(value, into: &numbers) }
            }
            var sets: [String: LiveRuleset.Set] = [:]
            for set in live.sets where set.family == family && set.table == name {
                sets[set.name] = set
                for element in set.elements { TableContext.collect(element, into: &numbers) }
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
            case .array(let items): for item in items { collect(item, into: &numbers) }
            case .object(let pairs): for (_, value) in pairs { collect(value, into: &numbers) }
            default: break
            }
        }
    }
}
