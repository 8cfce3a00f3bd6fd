import PortModel
import PortPlanning

/// The right side of a match: whether the packet's field is in it, in three-valued logic.
extension BlockingAnalyzer.RuleMatcher {
    /// One `match` statement: equality and set membership, their negation, and port comparisons.
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
        let value = Self.unwrap(element)
        switch field {
        case .l4proto: return numberMatch(packet.protocolNumber, value, names: Self.protocolNumbers)
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
            if packet.onLoopback { return Self.interfaceName(name, matches: "lo") }
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
            for element in elements.map(Self.unwrap) {
                guard let network = Self.network(element) else {
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
