import PortModel

/// A server whose own configuration file portctl reads, and the bundled profile it refines.
public enum ConfigKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case dss
    case mediamtx
    case nginxRTMP = "nginx-rtmp"
    case icecast = "icecast2"
    case wowza
    case srs

    /// The bundled profile this kind of configuration refines (its title, source sets, documentation).
    public var profile: String { rawValue }
    public var description: String { rawValue }
}

/// Where a value of a plan came from: `mediamtx.yml:42 rtmpAddress: :1936`.
public struct Citation: Sendable, Hashable, CustomStringConvertible {
    /// The file as the admin named it (or as an include resolved it).
    public let file: String
    /// 1-based; 0 when the key is absent and the server's default applies.
    public let line: Int
    /// The directive as the file wrote it, trimmed (`rtmpAddress: :1936`, `listen 1936;`,
    /// `<port>8010</port>`); for a default, what is absent and what the default is
    /// (`rtspAddress absent: default :8554`).
    public let text: String

    public init(file: String, line: Int, text: String) {
        self.file = file
        self.line = line
        self.text = text
    }

    /// The file's last path component, as citations show it.
    public var fileName: String { file.split(separator: "/").last.map(String.init) ?? file }

    public var description: String { line > 0 ? "\(fileName):\(line) \(text)" : "\(fileName): \(text)" }

    /// A line of a file as a citation shows it: trimmed, without a trailing comment that starts
    /// with `comment` after a space, and at most 80 characters.
    public static func directive(_ line: some StringProtocol, comment: String) -> String {
        // Control characters (a stray \r, a tab) become spaces: a citation is one line of text.
        var text = String(String(line).map { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 } ?? false) ? " " : $0 }).trimmingWhitespace()
        let marker = Array(" \(comment)")
        let characters = Array(text)
        if characters.count > marker.count {
            for index in 0...(characters.count - marker.count) where Array(characters[index..<index + marker.count]) == marker {
                text = String(characters[..<index]).trimmingWhitespace()
                break
            }
        }
        return text.count > 80 ? String(text.prefix(79)) + "…" : text
    }
}

/// Where a listener accepts connections, as the configuration binds it.
public enum BindAddress: Sendable, Hashable, CustomStringConvertible {
    /// Every address: `:1935`, `0.0.0.0`, `[::]`, `*`, or no address given.
    case any
    /// 127.0.0.0/8 or ::1, as written (`127.0.0.1`, `localhost`, `[::1]`): no opening is needed.
    case loopback(String)
    /// One host address (a /32 or /128 CIDR): an opening for that destination only.
    case address(CIDR)

    public var description: String {
        switch self {
        case .any: return "any address"
        case .loopback(let text): return text
        case .address(let cidr): return cidr.addressText
        }
    }
}

/// One listening socket (or UDP range) the configuration asks for.
public struct ConfigListener: Sendable, Hashable {
    /// The opening's id: lower-case letters, digits and '-'; the bundled profile's id where one
    /// matches (`rtsp`, `rtmp`, `admin`), else one derived from the directive (`listen-8001`).
    /// Unique within one `ServerConfig`.
    public let id: String
    public let purpose: String
    public let ports: [PortSpec]
    public let service: Service
    public let direction: Direction
    /// Who may use it: `.world`, or `.admins` for an admin/API port, `.broadcasters` for encoders.
    public let from: SourceRef
    public let bind: BindAddress
    public let citation: Citation
    /// `web-server` when the ports include 80 or 443 (the port-80 rule and conflicts check them).
    public let conflicts: String?

    public init(
        id: String, purpose: String, ports: [PortSpec], service: Service, direction: Direction = .in, from: SourceRef = .world,
        bind: BindAddress = .any, citation: Citation, conflicts: String? = nil
    ) {
        self.id = id
        self.purpose = purpose
        self.ports = ports
        self.service = service
        self.direction = direction
        self.from = from
        self.bind = bind
        self.citation = citation
        self.conflicts = conflicts
    }
}

extension ConfigListener {
    static let webPorts = [80, 443].map { try! PortNumber($0) }

    /// Ports 80 and 443 are a web server's: a listener on them conflicts with one (`web-server`).
    static func webServerConflict(_ ports: [PortSpec]) -> String? {
        ports.contains { spec in webPorts.contains { spec.range.contains($0) } } ? "web-server" : nil
    }

    static func webServerConflict(_ ports: [PortNumber]) -> String? {
        webServerConflict(ports.map { PortSpec(PortRange(single: $0), .tcp) })
    }
}

/// Something the configuration switches off (`rtmp: no`), with the line that does it.
public struct ConfigClosed: Sendable, Hashable {
    public let id: String
    /// The ports it would use if it were on (its configured or default address); may be empty.
    public let ports: [PortSpec]
    /// Short and lower-case: `disabled`, `rtmpEncryption is "strict"`.
    public let reason: String
    public let citation: Citation

    public init(id: String, ports: [PortSpec], reason: String, citation: Citation) {
        self.id = id
        self.ports = ports
        self.reason = reason
        self.citation = citation
    }
}

/// What one server's configuration file says it listens on.
public struct ServerConfig: Sendable, Hashable {
    public let kind: ConfigKind
    /// The file the admin named.
    public let path: String
    /// Every file read: the named one first, then includes in the order read.
    public let files: [String]
    public let listeners: [ConfigListener]
    public let closed: [ConfigClosed]
    /// Names the configuration gives its streams, per protocol, for the probe to ask for:
    /// MediaMTX `paths` (`.rtsp`), nginx-rtmp / SRS `application` or vhost app names (`.rtmp`),
    /// Icecast `<mount-name>` (`.icy`). Empty when it names none.
    public let streamPaths: [Service: [String]]

    public init(
        kind: ConfigKind, path: String, files: [String], listeners: [ConfigListener], closed: [ConfigClosed],
        streamPaths: [Service: [String]] = [:]
    ) {
        self.kind = kind
        self.path = path
        self.files = files
        self.listeners = listeners
        self.closed = closed
        self.streamPaths = streamPaths
    }
}

/// A configuration that cannot be read: one message, at the file and line where it went wrong.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public let file: String
    /// 1-based; 0 when it concerns the whole file (missing, unreadable, empty).
    public let line: Int
    /// What is wrong and what was expected: `rtmpAddress ':99999': port 99999 is out of range
    /// (1-65535); expected [HOST]:PORT, e.g. :1935`.
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// The files a reader may open: the disk, or a dictionary in tests (includes and globs too).
public protocol ConfigFileSystem: Sendable {
    /// The file's text; `ConfigError(line: 0)` naming the path when it is missing or unreadable.
    func read(_ path: String) throws(ConfigError) -> String
    /// The paths a shell glob (`*`, `?`, `[...]`) matches, sorted; empty when none.
    func glob(_ pattern: String) -> [String]
    /// True when `path` names something (a file beside the one named: DSS's
    /// streamingadminserver.conf, Wowza's other file); a plain test, not a glob.
    func exists(_ path: String) -> Bool
}
