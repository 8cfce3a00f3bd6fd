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
    /// The line of the server's configuration this opening follows (`mediamtx.yml:42 rtmpAddress:
    /// :1936`); nil for an opening of a profile file.
    public let citation: String?
    /// The one local address the server listens on (a host CIDR); nil for every address.
    public let destination: CIDR?

    public init(
        id: String, purpose: String, ports: [PortSpec], service: Service = .other,
        direction: Direction = .in, from: SourceRef = .world, when: String? = nil, conflicts: String? = nil,
        citation: String? = nil, destination: CIDR? = nil
    ) {
        self.citation = citation
        self.destination = destination
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
    /// Set when the openings follow a server's own configuration file (`--config`).
    public let configuration: ProfileConfiguration?

    public init(
        name: String, title: String, description: String?, source: String, options: [String: String],
        sourceSets: [String: String], openings: [Opening], origin: String, configuration: ProfileConfiguration? = nil
    ) {
        self.configuration = configuration
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

/// What a server's configuration file switches off: a protocol it disables, or a listener bound to
/// loopback only. The plan shows each as closed, with the line that closes it.
public struct ConfiguredClosed: Sendable, Hashable {
    public let id: String
    public let ports: [PortSpec]
    /// `disabled`, `listens on 127.0.0.1 only`, `rtmpEncryption is strict`.
    public let reason: String
    /// `mediamtx.yml:60 rtmp: no`.
    public let citation: String

    public init(id: String, ports: [PortSpec], reason: String, citation: String) {
        self.id = id
        self.ports = ports
        self.reason = reason
        self.citation = citation
    }
}

/// The server configuration a profile was made from (`--config FILE`).
public struct ProfileConfiguration: Sendable, Hashable {
    /// The kind of server (`mediamtx`, `nginx-rtmp`), which is also the bundled profile it refines.
    public let kind: String
    /// The file the admin named, as given.
    public let path: String
    /// Every file read, includes too.
    public let files: [String]
    public let closed: [ConfiguredClosed]
    /// Stream names the configuration gives, per protocol, for the probe.
    public let streamPaths: [Service: [String]]

    public init(kind: String, path: String, files: [String], closed: [ConfiguredClosed], streamPaths: [Service: [String]]) {
        self.kind = kind
        self.path = path
        self.files = files
        self.closed = closed
        self.streamPaths = streamPaths
    }
}
