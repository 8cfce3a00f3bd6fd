import PortModel
import PortPlanning

/// Where portctl's rules live.
///
/// *Standalone*: portctl's own `inet` table with an input base chain at policy drop and a baseline.
/// *Attach*: a regular chain, `portctl`, inside a table the admin already has, reached by one
/// jump from the admin's input chain. Both exist because an accept in one base chain does not
/// cancel a drop in another table's chain on the same hook.
public enum Placement: Sendable, Hashable, CustomStringConvertible {
    case standalone(table: String)
    case attach(family: String, table: String, chain: String)

    public static let attachedChain = "portctl"
    public static let attachedSetPrefix = "portctl_"
    /// The comment on the jump rule, by which portctl finds it again.
    public static let jumpComment = "portctl"

    public static let families = ["inet", "ip", "ip6"]

    /// Names portctl passes to libnftables are checked, though JSON cannot be injected into.
    package static func isNftName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLetter || first == "_", text.count <= 64 else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
    }

    /// Whether portctl's objects live in the admin's own table (`--attach`).
    public var isAttached: Bool {
        if case .attach = self { return true }
        return false
    }

    public var family: String {
        switch self {
        case .standalone: return "inet"
        case .attach(let family, _, _): return family
        }
    }

    public var table: String {
        switch self {
        case .standalone(let table): return table
        case .attach(_, let table, _): return table
        }
    }

    /// How it is written in state and in `--attach`.
    public var description: String {
        switch self {
        case .standalone(let table): return "standalone inet \(table)"
        case .attach(let family, let table, let chain): return "attach \(family) \(table) \(chain)"
        }
    }

    public init?(stateText: String) {
        let words = stateText.split(separator: " ").map(String.init)
        if words.count == 3, words[0] == "standalone", words[1] == "inet" {
            self = .standalone(table: words[2])
        } else if words.count == 4, words[0] == "attach" {
            self = .attach(family: words[1], table: words[2], chain: words[3])
        } else {
            return nil
        }
    }
}
