import PortModel
import PortPlanning

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
