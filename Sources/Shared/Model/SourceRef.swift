/// Who may use an opening, as a profile names it.
///
/// `world` and `loopback` are fixed. `admins` and `broadcasters` are source sets every profile may use;
/// a profile can declare more under `sources:`. The admin fills a set on the command line
/// (`--admin-from`, `--broadcaster`, `--source-set NAME=CIDR`); the planner resolves it.
public enum SourceRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    case world
    case loopback
    case set(String)

    public static let admins = SourceRef.set("admins")
    public static let broadcasters = SourceRef.set("broadcasters")
    /// Source sets every profile may name without declaring them.
    public static let builtinSets = ["admins", "broadcasters"]

    public init(name: String) {
        switch name {
        case "world": self = .world
        case "loopback": self = .loopback
        default: self = .set(name)
        }
    }

    public var name: String {
        switch self {
        case .world: return "world"
        case .loopback: return "loopback"
        case .set(let name): return name
        }
    }

    public var description: String { name }

    public static func < (lhs: SourceRef, rhs: SourceRef) -> Bool {
        func rank(_ ref: SourceRef) -> Int {
            switch ref {
            case .world: return 0
            case .loopback: return 1
            case .set: return 2
            }
        }
        if rank(lhs) != rank(rhs) { return rank(lhs) < rank(rhs) }
        return lhs.name < rhs.name
    }
}
