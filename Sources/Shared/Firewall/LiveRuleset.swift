import PlanRendering
import PortModel
import PortPlanning

/// The kernel's whole ruleset as `nft -j list ruleset` (libnftables JSON) describes it.
///
/// Only what portctl reads is kept: tables, chains with their hooks and policies, rules with their
/// expressions, and sets with their elements.
public struct LiveRuleset: Sendable, Hashable {
    public struct Table: Sendable, Hashable {
        public let family: String
        public let name: String
        public var id: String { "\(family) \(name)" }
    }

    public struct Chain: Sendable, Hashable {
        public let family: String
        public let table: String
        public let name: String
        /// Base chains only: `filter`, `nat`, `route`.
        public let type: String?
        /// Base chains only: `input`, `forward`, `output`, `prerouting`, `postrouting`, `ingress`.
        public let hook: String?
        public let priority: Int?
        /// Base chains only: `accept` or `drop`.
        public let policy: String?
        public var isBase: Bool { hook != nil }
        public var tableID: String { "\(family) \(table)" }
    }

    public struct Rule: Sendable, Hashable {
        public let family: String
        public let table: String
        public let chain: String
        public let handle: Int?
        /// The rule's statements, as libnftables JSON (`match`, `counter`, `accept`, `jump`, ...).
        public let expr: [JSONValue]
        public let comment: String?
    }

    public struct Set: Sendable, Hashable {
        public let family: String
        public let table: String
        public let name: String
        public let type: JSONValue?
        public let flags: [String]
        /// Each element as libnftables JSON: a value, `{"range": [a, b]}`, `{"prefix": ...}`,
        /// `{"concat": [...]}`, or `{"elem": {"val": ..., "counter": ..., "comment": ...}}`.
        public let elements: [JSONValue]
    }

    public var tables: [Table] = []
    public var chains: [Chain] = []
    public var rules: [Rule] = []
    public var sets: [Set] = []

    public init() {}

    /// Parses the output of `list ruleset` (or `list table ...`) in JSON.
    public init(json text: String) throws(JSONValue.ParseError) {
        try self.init(value: try JSONValue.parse(text))
    }

    /// Reads an already parsed listing.
    public init(value root: JSONValue) throws(JSONValue.ParseError) {
        guard let items = root["nftables"]?.array else {
            throw JSONValue.ParseError(description: "not a libnftables listing: no \"nftables\" array")
        }
        for item in items {
            if let table = item["table"] {
                tables.append(Table(family: table["family"]?.string ?? "", name: table["name"]?.string ?? ""))
            } else if let chain = item["chain"] {
                chains.append(
                    Chain(
                        family: chain["family"]?.string ?? "", table: chain["table"]?.string ?? "",
                        name: chain["name"]?.string ?? "", type: chain["type"]?.string, hook: chain["hook"]?.string,
                        priority: chain["prio"]?.int, policy: chain["policy"]?.string))
            } else if let rule = item["rule"] {
                rules.append(
                    Rule(
                        family: rule["family"]?.string ?? "", table: rule["table"]?.string ?? "",
                        chain: rule["chain"]?.string ?? "", handle: rule["handle"]?.int, expr: rule["expr"]?.array ?? [],
                        comment: rule["comment"]?.string))
            } else if let set = item["set"] {
                let flags = set["flags"]?.array?.compactMap(\.string) ?? set["flags"]?.string.map { [$0] } ?? []
                sets.append(
                    Set(
                        family: set["family"]?.string ?? "", table: set["table"]?.string ?? "", name: set["name"]?.string ?? "",
                        type: set["type"], flags: flags, elements: set["elem"]?.array ?? []))
            }
        }
    }

    public func rules(in chain: Chain) -> [Rule] {
        rules.filter { $0.family == chain.family && $0.table == chain.table && $0.chain == chain.name }
    }

    public func chain(family: String, table: String, name: String) -> Chain? {
        chains.first { $0.family == family && $0.table == table && $0.name == name }
    }

    public func set(family: String, table: String, name: String) -> Set? {
        sets.first { $0.family == family && $0.table == table && $0.name == name }
    }

    public func hasTable(family: String, name: String) -> Bool {
        tables.contains { $0.family == family && $0.name == name }
    }
}
