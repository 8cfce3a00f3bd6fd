import PortModel

/// Who an entry of a plan admits, once source sets are resolved.
///
/// A scope is identified by its name: a plan resolves each source set once, so two scopes with the
/// same name hold the same addresses. Comparing names keeps sorting and hashing cheap when a set
/// holds ten thousand networks.
public enum Scope: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Everyone.
    case world
    /// Only the host itself.
    case loopback
    /// The members of a named source set.
    case addresses(set: String, cidrs: [CIDR])

    public var name: String {
        switch self {
        case .world: return "world"
        case .loopback: return "loopback"
        case .addresses(let set, _): return set
        }
    }

    public static func == (lhs: Scope, rhs: Scope) -> Bool {
        switch (lhs, rhs) {
        case (.world, .world), (.loopback, .loopback): return true
        case (.addresses(let a, _), .addresses(let b, _)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(name) }

    public var description: String {
        switch self {
        case .world: return "any"
        case .loopback: return "loopback"
        case .addresses(let set, let cidrs): return "\(set) (\(cidrs.map(\.description).joined(separator: ", ")))"
        }
    }

    public static func < (lhs: Scope, rhs: Scope) -> Bool {
        func rank(_ scope: Scope) -> Int {
            switch scope {
            case .world: return 0
            case .addresses: return 1
            case .loopback: return 2
            }
        }
        if rank(lhs) != rank(rhs) { return rank(lhs) < rank(rhs) }
        return lhs.name < rhs.name
    }
}

/// Which profile and opening asked for some ports: the provenance of every port in a plan.
public struct Contribution: Sendable, Hashable {
    public let profile: String
    public let opening: String
    public let purpose: String
    public let service: Service
    public let direction: Direction
    /// The ports exactly as the opening listed them.
    public let spec: PortSpec
    /// The configuration line the opening follows (`mediamtx.yml:42 rtmpAddress: :1936`), if any.
    public let citation: String?

    package init(
        profile: String, opening: String, purpose: String, service: Service, direction: Direction, spec: PortSpec, citation: String? = nil
    ) {
        self.citation = citation
        self.profile = profile
        self.opening = opening
        self.purpose = purpose
        self.service = service
        self.direction = direction
        self.spec = spec
    }

    /// `dss/rtsp`: how comments and reports name an opening.
    public var label: String { "\(profile)/\(opening)" }

    /// `mediamtx/rtmp mediamtx.yml:42 rtmpAddress: :1936`: the label and, when there is one, the citation.
    public var cited: String { citation.map { "\(label) \($0)" } ?? label }
}

/// One merged opening of a plan: a port range on one transport for one scope, and every reason for it.
public struct PlanEntry: Sendable, Hashable {
    public let transport: Transport
    public let range: PortRange
    public let scope: Scope
    /// The one local address these ports are open on; nil for every address.
    public let destination: CIDR?
    public let direction: Direction
    public let contributions: [Contribution]

    package init(
        transport: Transport, range: PortRange, scope: Scope, destination: CIDR? = nil, direction: Direction, contributions: [Contribution]
    ) {
        self.destination = destination
        self.transport = transport
        self.range = range
        self.scope = scope
        self.direction = direction
        self.contributions = contributions
    }

    public var spec: PortSpec { PortSpec(range, transport) }
    public var profiles: [String] { contributions.map(\.profile).uniqued() }
    public var labels: [String] { contributions.map(\.label).uniqued() }
    public var purposes: [String] { contributions.map(\.purpose).uniqued() }
    /// Labels with their configuration citations, for element comments and reports.
    public var citedLabels: [String] { contributions.map(\.cited).uniqued() }
}

/// An opening of a profile that the plan leaves closed, and why.
public struct ClosedOpening: Sendable, Hashable {
    public let profile: String
    public let opening: String
    public let ports: [PortSpec]
    /// The empty source set that keeps it closed; nil when the server's configuration closes it.
    public let sourceSet: String?
    /// Why, in a few words: `no broadcasters declared`, `disabled`, `listens on 127.0.0.1 only`.
    public let reason: String
    /// The configuration line that closes it (`mediamtx.yml:60 rtmp: no`), if any.
    public let citation: String?

    package init(profile: String, opening: String, ports: [PortSpec], sourceSet: String?, reason: String, citation: String? = nil) {
        self.profile = profile
        self.opening = opening
        self.ports = ports
        self.sourceSet = sourceSet
        self.reason = reason
        self.citation = citation
    }
}

/// Something the admin should know before applying a plan.
public struct PlanWarning: Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case wideRangeWorld = "wide-range-world"
        case adminWorld = "admin-world"
        case adminLoopback = "admin-loopback"
        case setClosed = "source-set-closed"
        case port80 = "port-80"
        case unusedSourceSet = "unused-source-set"
        case noSSHGuard = "no-ssh-guard"
    }

    public let code: Code
    public let message: String
    public var description: String { message }
}

/// An opening of a profile as the plan resolved it: the unit streamd listens on and the probe checks.
public struct ResolvedOpening: Sendable, Hashable {
    public let profile: String
    public let opening: Opening
    public let scope: Scope
}

/// The result of planning: every port to open, merged, with why it is needed and who may use it.
///
/// Deterministic: the same request gives the same plan, byte for byte, in every format.
public struct Plan: Sendable {
    public let profiles: [Profile]
    public let options: [String]
    /// Every source set the profiles reference, resolved.
    public let scopes: [String: Scope]
    public let entries: [PlanEntry]
    public let openings: [ResolvedOpening]
    public let closed: [ClosedOpening]
    public let warnings: [PlanWarning]
    public let sshPorts: [PortNumber]

    /// Entries that need an inbound accept rule.
    public var inboundEntries: [PlanEntry] { entries.filter { $0.direction.needsInboundRule } }

    /// `dss+rtmp`: the plan's name in comments and file names.
    public var name: String { profiles.map(\.name).joined(separator: "+") }
}

extension Sequence where Element: Hashable {
    package func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
