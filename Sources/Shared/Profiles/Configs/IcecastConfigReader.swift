import PortModel

/// Reads Icecast 2's icecast.xml: every `<listen-socket>` with its `<port>`, `<bind-address>`,
/// `<ssl>` (2.5: `<tls>`), `<shoutcast-compat>` and `<shoutcast-mount>`, the old top-level `<port>`
/// and `<bind-address>` when no listen-socket is given, and each `<mount-name>` for the probe.
///
/// It follows Icecast 2.4's src/cfgfile.c (Debian's icecast2) and the "config-file" documentation:
/// a listen-socket without `<port>` listens on 8000; a `<shoutcast-mount>` inside a listen-socket
/// adds a second socket on port+1 for Shoutcast source clients; `<shoutcast-compat>1` makes the
/// socket itself one for Shoutcast source clients only (listeners use the other sockets), with the
/// global `<shoutcast-mount>`, default /stream. Commented-out sockets are not elements, so they are
/// ignored; 2.5's `type="virtual"` sockets bind nothing and are skipped.
public enum IcecastConfigReader {
    /// Reads `path` (icecast.xml).
    public static func read(path: String, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let root = try ConfigXML.parse(try files.read(path), file: path)
        guard root.name == "icecast" else {
            throw ConfigError(
                file: path, line: root.line, message: "the root element is <\(root.name)>; expected <icecast> (Icecast's icecast.xml)")
        }
        var reader = IcecastReader(path: path, root: root)
        try reader.read()
        let paths = reader.streamPaths()
        return ServerConfig(
            kind: .icecast, path: path, files: [path], listeners: reader.listeners, closed: [],
            streamPaths: paths.isEmpty ? [:] : [.icy: paths])
    }
}

struct IcecastReader {
    let path: String
    let root: ConfigXMLElement
    var listeners: [ConfigListener] = []
    var ids = ConfigIDs()
    /// The mount point each Shoutcast source socket uses, in order.
    var shoutcastMounts: [String] = []

    init(path: String, root: ConfigXMLElement) {
        self.path = path
        self.root = root
    }

    /// Icecast's default listen port (cfgfile.c: `listener->port = 8000`).
    static let defaultPort = try! PortNumber(8000)

    mutating func read() throws(ConfigError) {
        let sockets = root.all("listen-socket")
        let globalMount = root.last("shoutcast-mount")?.value ?? "/stream"
        guard !sockets.isEmpty else {
            // No listen-socket: the old top-level <port> and <bind-address> (cfgfile.c keeps them only then).
            let (port, citation) = try port(in: root, absent: "no <listen-socket>: default port 8000", line: 0)
            add(
                "http", port: port, service: .icy, from: .world, bind: try bind(in: root), citation: citation,
                purpose: "Listeners, source clients, status and /admin/ pages (top-level <port>)")
            return
        }
        for socket in sockets {
            switch socket.attributes["type"]?.lowercased() {
            case nil, "", "normal": break
            case "virtual": continue
            case let other?:
                throw ConfigError(
                    file: path, line: socket.line,
                    message: "<listen-socket type=\"\(Shown.value(other))\">: unknown type; expected type=\"normal\" or type=\"virtual\"")
            }
            let (port, citation) = try port(in: socket, absent: "<listen-socket> without <port>: default 8000", line: socket.line)
            let bind = try bind(in: socket)
            let tls = try tls(of: socket)
            let compat = try flag(socket.last("shoutcast-compat"))
            let mount = socket.last("shoutcast-mount")
            if compat {
                add(
                    "shoutcast-source", port: port, service: .icy, from: .broadcasters, bind: bind, citation: citation,
                    purpose: "Shoutcast source clients only (shoutcast-compat listen-socket)")
                shoutcastMounts.append(mount?.value ?? globalMount)
            } else {
                add(
                    tls ? "https" : "http", port: port, service: tls ? .https : .icy, from: .world, bind: bind, citation: citation,
                    purpose: tls ? Self.listenPurpose + " over HTTPS" : Self.listenPurpose)
            }
            if let mount {
                guard port.value < 65535 else {
                    throw ConfigError(
                        file: path, line: mount.line,
                        message: "\(mount.directive): the Shoutcast source port would be 65535+1, out of range (1-65535); "
                            + "expected the listen-socket's <port> below 65535")
                }
                add(
                    "shoutcast-source", port: try! PortNumber(Int(port.value) + 1), service: .icy, from: .broadcasters, bind: bind,
                    citation: mount.citation(path), purpose: "Shoutcast source clients on port+1 of listen-socket \(port) (shoutcast-mount)"
                )
                shoutcastMounts.append(mount.value)
            }
        }
    }

    static let listenPurpose = "Listeners, source clients, status and /admin/ pages (listen-socket)"

    mutating func add(
        _ base: String, port: PortNumber, service: Service, from: SourceRef, bind: BindAddress, citation: Citation, purpose: String
    ) {
        listeners.append(
            ConfigListener(
                id: ids.claim(base, port: port), purpose: purpose, ports: [ConfigValues.tcp(port)],
                service: service, from: from, bind: bind, citation: citation, conflicts: ConfigListener.webServerConflict([port])))
    }

    /// The last `<port>` (Icecast keeps the last), or 8000 cited at `line` when there is none.
    func port(in element: ConfigXMLElement, absent: String, line: Int) throws(ConfigError) -> (PortNumber, Citation) {
        guard let port = element.last("port") else { return (Self.defaultPort, Citation(file: path, line: line, text: absent)) }
        let number = try ConfigValues.port(
            port.value, what: port.directive, example: "<port>8000</port>", file: path, line: port.textLine)
        return (number, port.citation(path))
    }

    func bind(in element: ConfigXMLElement) throws(ConfigError) -> BindAddress {
        guard let address = element.last("bind-address") else { return .any }
        return try ConfigValues.bind(
            address.value, what: address.directive, example: "192.0.2.10 or ::1", file: path, line: address.textLine)
    }

    /// `<ssl>1</ssl>` (2.4 and 2.5) or 2.5's `<tls>` modes; the last of them counts.
    func tls(of socket: ConfigXMLElement) throws(ConfigError) -> Bool {
        guard let element = socket.children.last(where: { $0.name == "ssl" || $0.name == "tls" }) else { return false }
        if element.name == "ssl" { return try flag(element) }
        let value = element.value.lowercased()
        switch value {
        case "auto_no_plain", "rfc2818", "true", "yes", "on": return true
        case "disabled", "auto", "rfc2817", "false", "no", "off": return false
        default:
            if !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) { return value.contains { $0 != "0" } }
            throw ConfigError(
                file: path, line: element.textLine,
                message: "\(element.directive): unknown TLS mode; expected disabled, auto, auto_no_plain, rfc2817 or rfc2818")
        }
    }

    /// A 0/1 setting. Icecast 2.4 reads it with atoi, so words such as `yes` would be 0 there but
    /// on in 2.5: they are refused rather than guessed.
    func flag(_ element: ConfigXMLElement?) throws(ConfigError) -> Bool {
        guard let element else { return false }
        let value = element.value
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigError(
                file: path, line: element.textLine,
                message: "\(element.directive): '\(Shown.value(value))' is not 0 or 1 (Icecast 2.4 reads words as 0, 2.5 reads yes as 1); "
                    + "expected <\(element.name)>1</\(element.name)> or <\(element.name)>0</\(element.name)>")
        }
        return value.contains { $0 != "0" }
    }

    /// Each `<mount>`'s `<mount-name>` (not the `type="default"` settings), then the Shoutcast mounts.
    func streamPaths() -> [String] {
        var paths: [String] = []
        var seen: Set<String> = []
        let names = root.all("mount").filter { $0.attributes["type"] != "default" }.compactMap { $0.last("mount-name")?.value }
        for name in names + shoutcastMounts where !name.isEmpty && seen.insert(name).inserted { paths.append(name) }
        return paths
    }
}
