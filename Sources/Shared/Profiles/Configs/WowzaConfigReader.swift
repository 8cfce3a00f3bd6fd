import PortModel

/// Reads Wowza Streaming Engine's conf/VHost.xml and conf/Server.xml, given either: the other is
/// read from the same directory when it is there, and each port cites its own file and line.
///
/// VHost.xml: every `<HostPortList><HostPort>` with `<Type>` Streaming or Admin, `<IpAddress>`
/// (`*` is every address), `<Port>` (a comma list such as `1935,80,554`) and `<SSLConfig>`
/// (`<Enable>true`, or in older files a `<KeyStorePath>`). A streaming port 80 becomes `http80`,
/// 554 `rtsp554`, the others `streaming` (RTMP, RTSP, WOWZ and HTTP share them); TLS ports
/// `ssl-streaming`; admin ports `admin-http`. Server.xml: `<RESTInterface>` (Enable, IPAddress,
/// Port 8087, DocumentationServerEnable/Port 8089), `<CommandInterface><HostPort>` when present,
/// `<JMXRemoteConfiguration>` (Enable false, RMIConnectionPort 8084, RMIRegistryPort 8085) and
/// `<RTP><DatagramStartingPort>` 6970. Wowza documents UDP 6970-9999 for RTP, 3030 ports from the
/// default start; the same count is opened from a configured start. Defaults, and a missing file's
/// contents, are those of the files Wowza installs (profiles/wowza.yaml cites them). The Streaming
/// Engine Manager (8088) is configured outside conf/ and cited as a default. Variables (`${...}`)
/// are refused, not expanded; other virtual hosts (VHosts.xml) are not read.
public enum WowzaConfigReader {
    /// Reads `path` (VHost.xml or Server.xml) and its sibling in the same directory, if any.
    public static func read(path: String, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let (isVHost, first) = try WowzaReader.part(try ConfigXML.parse(try files.read(path), file: path), file: path)
        let sibling = Path.join(Path.parent(path), isVHost ? "Server.xml" : "VHost.xml")
        var other: ConfigXMLElement?
        var read = [path]
        if sibling != path, files.exists(sibling) {
            let (siblingIsVHost, element) = try WowzaReader.part(try ConfigXML.parse(try files.read(sibling), file: sibling), file: sibling)
            guard siblingIsVHost != isVHost else {
                throw ConfigError(
                    file: sibling, line: element.line,
                    message: "holds <\(element.name)> as \(Path.lastComponent(path)) does; expected <Root><\(isVHost ? "Server" : "VHost")>"
                )
            }
            other = element
            read.append(sibling)
        }
        var reader = WowzaReader(vhostFile: isVHost ? path : sibling, serverFile: isVHost ? sibling : path)
        try reader.vhost(isVHost ? first : other)
        try reader.server(isVHost ? other : first)
        return ServerConfig(kind: .wowza, path: path, files: read, listeners: reader.listeners, closed: reader.closed)
    }
}

struct WowzaReader {
    let vhostFile: String
    let serverFile: String
    var listeners: [ConfigListener] = []
    var closed: [ConfigClosed] = []
    var ids = ConfigIDs()

    init(vhostFile: String, serverFile: String) {
        self.vhostFile = vhostFile
        self.serverFile = serverFile
    }

    /// The `<VHost>` or `<Server>` inside `<Root>`; true for VHost.
    static func part(_ root: ConfigXMLElement, file: String) throws(ConfigError) -> (Bool, ConfigXMLElement) {
        if root.name == "Root", let vhost = root.first("VHost") { return (true, vhost) }
        if root.name == "Root", let server = root.first("Server") { return (false, server) }
        throw ConfigError(
            file: file, line: root.line,
            message: "expected <Root><VHost> (Wowza's VHost.xml) or <Root><Server> (Server.xml), not <\(root.name)>")
    }

    static func port(_ number: Int) -> PortNumber { try! PortNumber(number) }

    mutating func add(
        _ base: String, _ ports: [PortNumber], _ service: Service, purpose: String, from: SourceRef = .admins, bind: BindAddress = .any,
        citation: Citation
    ) {
        listeners.append(
            ConfigListener(
                id: ids.claim(base, port: ports.first), purpose: purpose, ports: ports.map(ConfigValues.tcp),
                service: service, from: from, bind: bind, citation: citation, conflicts: ConfigListener.webServerConflict(ports)))
    }

    /// `true` or `false`, as Wowza writes them; `fallback` when the element is absent.
    func flag(_ element: ConfigXMLElement?, file: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let element else { return fallback }
        switch element.value.lowercased() {
        case "true": return true
        case "false": return false
        default:
            throw ConfigError(
                file: file, line: element.textLine,
                message:
                    "\(element.directive): expected <\(element.name)>true</\(element.name)> or <\(element.name)>false</\(element.name)>")
        }
    }

    func bind(_ element: ConfigXMLElement?, file: String) throws(ConfigError) -> BindAddress {
        guard let element else { return .any }
        return try ConfigValues.bind(element.value, what: element.directive, example: "* or 192.0.2.10", file: file, line: element.textLine)
    }

    /// A `<Port>` holding one port or a comma list.
    func ports(_ element: ConfigXMLElement, file: String, example: String) throws(ConfigError) -> [PortNumber] {
        var ports: [PortNumber] = []
        var seen: Set<PortNumber> = []
        for item in element.value.split(separator: ",", omittingEmptySubsequences: false) {
            let port = try ConfigValues.port(String(item), what: element.directive, example: example, file: file, line: element.textLine)
            if seen.insert(port).inserted { ports.append(port) }
        }
        return ports
    }

    /// A single port setting, or `fallback` cited as absent.
    func port(_ element: ConfigXMLElement?, file: String, default fallback: Int, absent: String) throws(ConfigError) -> (
        PortNumber, Citation
    ) {
        guard let element else { return (Self.port(fallback), Citation(file: file, line: 0, text: "\(absent): default \(fallback)")) }
        let number = try ConfigValues.port(
            element.value, what: element.directive, example: "<\(element.name)>\(fallback)</\(element.name)>", file: file,
            line: element.textLine)
        return (number, element.citation(file))
    }

    /// TLS when `<SSLConfig><Enable>` is true; without `<Enable>` (older files), when it names a key store.
    func tls(_ element: ConfigXMLElement, file: String) throws(ConfigError) -> Bool {
        guard let ssl = element.first("SSLConfig") else { return false }
        guard let enable = ssl.first("Enable") else { return !(ssl.first("KeyStorePath")?.value ?? "").isEmpty }
        return try flag(enable, file: file, default: false)
    }

    mutating func vhost(_ vhost: ConfigXMLElement?) throws(ConfigError) {
        guard let vhost else {
            let missing = "not found: default"
            add(
                "streaming", [Self.port(1935)], .rtmp, purpose: "RTMP, RTSP, WOWZ and HTTP streaming (HostPort Default Streaming)",
                from: .world,
                citation: Citation(file: vhostFile, line: 0, text: "\(missing) HostPort Default Streaming <Port>1935</Port>"))
            add(
                "admin-http", [Self.port(8086)], .admin, purpose: "Admin HTTP providers (HostPort Default Admin)",
                citation: Citation(file: vhostFile, line: 0, text: "\(missing) HostPort Default Admin <Port>8086</Port>"))
            return
        }
        for hostPort in vhost.first("HostPortList")?.all("HostPort") ?? [] {
            let name = Shown.value(hostPort.first("Name")?.value ?? "", limit: 40)
            let label = "HostPort '\(name)'"
            guard let typeElement = hostPort.first("Type"), ["streaming", "admin"].contains(typeElement.value.lowercased()) else {
                let found = hostPort.first("Type")
                throw ConfigError(
                    file: vhostFile, line: found?.textLine ?? hostPort.line,
                    message: "\(label) \(found?.directive ?? "has no <Type>"): expected <Type>Streaming</Type> or <Type>Admin</Type>")
            }
            guard let portElement = hostPort.first("Port") else {
                throw ConfigError(file: vhostFile, line: hostPort.line, message: "\(label) has no <Port>; expected e.g. <Port>1935</Port>")
            }
            let ports = try ports(portElement, file: vhostFile, example: "<Port>1935</Port> or <Port>1935,80,554</Port>")
            let bind = try bind(hostPort.first("IpAddress"), file: vhostFile)
            let tls = try tls(hostPort, file: vhostFile)
            let cite = portElement.citation(vhostFile)
            if typeElement.value.lowercased() == "admin" {
                add(
                    tls ? "admin-https" : "admin-http", ports, tls ? .https : .admin, purpose: "Admin HTTP providers (\(label))",
                    bind: bind,
                    citation: cite)
            } else if tls {
                add(
                    "ssl-streaming", ports, .https, purpose: "RTMPS and HTTPS streaming (\(label), SSLConfig)", from: .world, bind: bind,
                    citation: cite)
            } else {
                let rest = ports.filter { $0.value != 80 && $0.value != 554 }
                if !rest.isEmpty {
                    add(
                        "streaming", rest, .rtmp, purpose: "RTMP, RTSP, WOWZ and HTTP streaming (\(label))", from: .world, bind: bind,
                        citation: cite)
                }
                if ports.contains(where: { $0.value == 80 }) {
                    add(
                        "http80", [Self.port(80)], .http, purpose: "HTTP streaming and RTMPT on port 80 (\(label))", from: .world,
                        bind: bind, citation: cite)
                }
                if ports.contains(where: { $0.value == 554 }) {
                    add(
                        "rtsp554", [Self.port(554)], .rtsp, purpose: "RTSP on port 554 (\(label))", from: .world, bind: bind, citation: cite
                    )
                }
            }
        }
    }

    mutating func server(_ server: ConfigXMLElement?) throws(ConfigError) {
        let file = serverFile
        let absent = server == nil ? "not found" : nil
        let rest = server?.first("RESTInterface")
        let restOn = try flag(rest?.first("Enable"), file: file, default: true)
        let (restPort, restCite) = try port(rest?.first("Port"), file: file, default: 8087, absent: absent ?? "RESTInterface Port absent")
        let (docsPort, docsCite) = try port(
            rest?.first("DocumentationServerPort"), file: file, default: 8089, absent: absent ?? "DocumentationServerPort absent")
        let docsEnable = rest?.first("DocumentationServerEnable")
        let switchCite = { (element: ConfigXMLElement?, fallback: String) -> Citation in
            element?.citation(file) ?? Citation(file: file, line: 0, text: "\(absent ?? "absent"): default \(fallback)")
        }
        if restOn {
            let bind = try bind(rest?.first("IPAddress") ?? rest?.first("IpAddress"), file: file)
            let secure = try rest.map { element throws(ConfigError) in try tls(element, file: file) } ?? false
            add(
                "rest-api", [restPort], secure ? .https : .admin, purpose: "REST API (Server.xml RESTInterface)", bind: bind,
                citation: restCite)
            if try flag(docsEnable, file: file, default: false) {
                add(
                    "rest-docs", [docsPort], .admin, purpose: "REST API documentation server (DocumentationServerPort)", bind: bind,
                    citation: docsCite)
            } else {
                closed.append(
                    ConfigClosed(
                        id: "rest-docs", ports: [ConfigValues.tcp(docsPort)], reason: "disabled",
                        citation: switchCite(docsEnable, "<DocumentationServerEnable>false</DocumentationServerEnable>")))
            }
        } else {
            let cite = switchCite(rest?.first("Enable"), "<Enable>true</Enable>")
            closed.append(ConfigClosed(id: "rest-api", ports: [ConfigValues.tcp(restPort)], reason: "disabled", citation: cite))
            closed.append(
                ConfigClosed(id: "rest-docs", ports: [ConfigValues.tcp(docsPort)], reason: "the REST interface is disabled", citation: cite)
            )
        }
        if let command = server?.first("CommandInterface")?.first("HostPort"), let portElement = command.first("Port") {
            let ports = try ports(portElement, file: file, example: "<Port>8083</Port>")
            add(
                "command", ports, .other, purpose: "Command interface, e.g. for shutdown (Server.xml CommandInterface)",
                bind: try bind(command.first("IpAddress"), file: file), citation: portElement.citation(file))
        }
        let jmx = server?.first("JMXRemoteConfiguration")
        let (connection, connectionCite) = try port(
            jmx?.first("RMIConnectionPort"), file: file, default: 8084, absent: absent ?? "RMIConnectionPort absent")
        let (registry, registryCite) = try port(
            jmx?.first("RMIRegistryPort"), file: file, default: 8085, absent: absent ?? "RMIRegistryPort absent")
        if try flag(jmx?.first("Enable"), file: file, default: false) {
            let bind = try bind(jmx?.first("IpAddress"), file: file)
            add(
                "jmx", [connection], .admin, purpose: "JMX/JConsole remote monitoring (RMIConnectionPort)", bind: bind,
                citation: connectionCite)
            add("jmx-registry", [registry], .admin, purpose: "JMX RMI registry (RMIRegistryPort)", bind: bind, citation: registryCite)
        } else {
            closed.append(
                ConfigClosed(
                    id: "jmx", ports: [connection, registry].map(ConfigValues.tcp), reason: "disabled",
                    citation: switchCite(jmx?.first("Enable"), "<Enable>false</Enable>")))
        }
        let (start, rtpCite) = try port(
            server?.first("RTP")?.first("DatagramStartingPort"), file: file, default: 6970,
            absent: absent ?? "RTP DatagramStartingPort absent")
        let end = min(65535, Int(start.value) + 3029)
        listeners.append(
            ConfigListener(
                id: ids.claim("rtp", port: start),
                purpose: "RTP/RTCP over UDP for RTSP sessions, \(start)-\(end) (DatagramStartingPort + Wowza's 3030-port range)",
                ports: [PortSpec(try! PortRange(start, Self.port(end)), .udp)], service: .rtp, direction: .both, citation: rtpCite))
        add(
            "manager", [Self.port(8088)], .admin, purpose: "Wowza Streaming Engine Manager web UI",
            citation: Citation(file: file, line: 0, text: "Streaming Engine Manager is set outside conf/: default 8088"))
    }
}
