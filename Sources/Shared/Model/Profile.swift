/// One reason to open ports: a line of a profile, with everything the planner needs.
public struct Opening: Sendable, Hashable {
    public let id: String
    public let purpose: String
    public let ports: [PortSpec]
    public let service: Service
    public let direction: Direction
    public let from: SourceRef
    /// The profile option that turns this opening on; nil when it is always on.
    public let when: String?
    /// Another kind of server that commonly holds these ports (`web-server`).
    public let conflicts: String?

    public init(
        id: String, purpose: String, ports: [PortSpec], service: Service = .other,
        direction: Direction = .in, from: SourceRef = .world, when: String? = nil, conflicts: String? = nil
    ) {
        self.id = id
        self.purpose = purpose
        self.ports = ports
        self.service = service
        self.direction = direction
        self.from = from
        self.when = when
        self.conflicts = conflicts
    }
}

/// A declarative description of the ports one streaming server or protocol needs.
///
/// Built only by `ProfileDecoder`, which checks every field, so a `Profile` value is always valid:
/// unique opening ids, known options and source sets, non-empty ports.
public struct Profile: Sendable, Hashable {
    public let name: String
    public let title: String
    public let description: String?
    /// Where the ports come from: documentation, source file, or seed document.
    public let source: String
    /// Options this profile offers (`port80`), with what each one does.
    public let options: [String: String]
    /// Source sets this profile declares beyond the built-in `admins` and `broadcasters`.
    public let sourceSets: [String: String]
    public let openings: [Opening]
    /// Where the profile was read from: a path, or `bundled:NAME.yaml`.
    public let origin: String

    public init(
        name: String, title: String, description: String?, source: String, options: [String: String],
        sourceSets: [String: String], openings: [Opening], origin: String
    ) {
        self.name = name
        self.title = title
        self.description = description
        self.source = source
        self.options = options
        self.sourceSets = sourceSets
        self.openings = openings
        self.origin = origin
    }
}

/// The known kinds of conflicting server a profile can name under `conflicts:`.
public enum ConflictKind {
    public static let all = ["web-server"]
}
