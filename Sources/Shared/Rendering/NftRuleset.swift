import PortModel
import PortPlanning

/// An nftables table as data: the one model both the nft text and the libnftables JSON are rendered from.
///
/// Every string in it is either fixed by portctl or a validated name, except comments, which
/// `NftComment` cleans; so nothing a profile says can become nft syntax.
public struct NftRuleset: Sendable, Hashable {
    public var family: String
    public var table: String
    public var comment: NftComment?
    public var sets: [NftSet]
    public var chains: [NftChain]
    /// Lines that explain the ruleset to a person; nft text only.
    public var header: [String]

    public init(family: String, table: String, comment: NftComment?, sets: [NftSet], chains: [NftChain], header: [String] = []) {
        self.family = family
        self.table = table
        self.comment = comment
        self.sets = sets
        self.chains = chains
        self.header = header
    }

    public var ruleCount: Int { chains.reduce(0) { $0 + $1.rules.count } }
}

/// A comment nft can print and read back: printable ASCII without quotes or backslashes, at most 128 bytes.
///
/// nft's text syntax has no escapes inside quoted strings, so anything else is replaced rather than escaped.
public struct NftComment: Sendable, Hashable, CustomStringConvertible {
    public static let maxLength = 128
    public let text: String

    public init(_ raw: String) {
        var cleaned = String(
            raw.unicodeScalars.map { scalar -> Character in
                if scalar == "\"" { return "'" }
                if scalar == "\\" || scalar.value < 0x20 || scalar.value > 0x7E { return " " }
                return Character(scalar)
            })
        if cleaned.utf8.count > NftComment.maxLength {
            cleaned = String(cleaned.prefix(NftComment.maxLength - 3)) + "..."
        }
        self.text = cleaned
    }

    public var description: String { text }
}

/// A named set: ports (`inet_proto . inet_service`) or addresses (`ipv4_addr`, `ipv6_addr`), always with intervals.
public struct NftSet: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case protoPorts
        case addresses(IPFamily)

        public var typeNames: [String] {
            switch self {
            case .protoPorts: return ["inet_proto", "inet_service"]
            case .addresses(.ipv4): return ["ipv4_addr"]
            case .addresses(.ipv6): return ["ipv6_addr"]
            }
        }
    }

    public enum Element: Sendable, Hashable {
        case protoPort(Transport, PortRange)
        case address(CIDR)
    }

    public var name: String
    public var kind: Kind
    /// Keep a packet counter per element, so each opening has its own.
    public var counter: Bool
    public var comment: NftComment?
    public var elements: [(Element, NftComment?)]

    public init(name: String, kind: Kind, counter: Bool, comment: NftComment?, elements: [(Element, NftComment?)]) {
        self.name = name
        self.kind = kind
        self.counter = counter
        self.comment = comment
        self.elements = elements
    }

    public static func == (lhs: NftSet, rhs: NftSet) -> Bool {
        lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.counter == rhs.counter && lhs.comment == rhs.comment
            && lhs.elements.elementsEqual(rhs.elements, by: { $0.0 == $1.0 && $0.1 == $1.1 })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(elements.count)
    }
}

/// A chain: a base chain hooked into input, or a regular chain reached by a jump.
public struct NftChain: Sendable, Hashable {
    public struct Hook: Sendable, Hashable {
        public var type: String
        public var hook: String
        public var priority: Int
        public var policy: String
    }

    public var name: String
    public var hook: Hook?
    public var rules: [NftRule]
}

/// One rule: matches, optional counter, a verdict and a comment.
public struct NftRule: Sendable, Hashable {
    public enum Match: Sendable, Hashable {
        case ctState([String])
        case inputInterface(String)
        case icmpType([String])
        case icmpv6Type([String])
        case tcpDestinationPorts([PortRange])
        case sourceAddressInSet(IPFamily, String)
        /// The one local address a listener is bound to (a host CIDR), typed so no text becomes syntax.
        case destinationAddress(CIDR)
        case protoPortInSet(String)
    }

    public enum Verdict: String, Sendable, Hashable {
        case accept
        case drop
    }

    public var matches: [Match]
    public var counter: Bool
    public var verdict: Verdict
    public var comment: NftComment?
}
