import PortModel

/// Reads Darwin Streaming Server's streamingserver.xml (DSS 5/6, QTSS 4/5: prefs as
/// `<PREF NAME="x">value</PREF>` and `<LIST-PREF NAME="x"><VALUE>..</VALUE></LIST-PREF>` inside
/// `<CONFIGURATION><SERVER>` and `<MODULE NAME="...">`), and the streamingadminserver.conf beside it
/// for the web admin's port, which streamingserver.xml does not hold.
///
/// Defaults are DSS 6.0.3's (github.com/macosforge/dss): rtsp_port 554, 7070, 8000, 8001 and
/// bind_ip_addr 0, all addresses (Server.tproj/QTSServerPrefs.cpp). Every rtsp_port listener also
/// answers RTSP over HTTP and, through QTSSMP3StreamingModule, MP3 (ICY) broadcasters and
/// listeners: 80 becomes `rtsp-http`, 8000 (MP3Broadcaster's default port) `mp3`. RTP media use UDP
/// pairs from 6970 up, which no pref moves (CommonUtilitiesLib/UDPSocketPool.h); the guide's
/// 6970-6999 is opened. Broadcasters send to the static ports of their SDP, limited to
/// minimum_static_sdp_port-maximum_static_sdp_port (20000-65535) only when
/// enforce_static_sdp_port_range is true (QTSSReflectorModule.cpp); otherwise the QTSS guide's
/// 10000-65535 is opened. The admin server listens on `port` (1220) and, with `ssl=1`, on
/// `sslport` (1240) (WebAdmin/src/streamingadminserver.pl); a missing conf file means those
/// defaults. Module prefs are looked up in their MODULE and then in SERVER, where QTSS before 4.0
/// kept them. The older streamingserver.conf text format is not read.
public enum DSSConfigReader {
    /// Reads `path` (streamingserver.xml) and the streamingadminserver.conf in its directory, if any.
    public static func read(path: String, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let root = try ConfigXML.parse(try files.read(path), file: path)
        guard root.name == "CONFIGURATION" else {
            throw ConfigError(
                file: path, line: root.line,
                message: "the root element is <\(root.name)>; expected <CONFIGURATION> (DSS's streamingserver.xml)")
        }
        var reader = DSSReader(path: path, root: root)
        try reader.streaming()
        var read = [path]
        let admin = Path.join(Path.parent(path), "streamingadminserver.conf")
        if files.exists(admin) {
            try reader.admin(file: admin, text: try files.read(admin))
            read.append(admin)
        } else {
            try reader.admin(file: admin, text: nil)
        }
        return ServerConfig(kind: .dss, path: path, files: read, listeners: reader.listeners, closed: reader.closed)
    }
}

struct DSSReader {
    let path: String
    let server: ConfigXMLElement?
    let modules: [ConfigXMLElement]
    var listeners: [ConfigListener] = []
    var closed: [ConfigClosed] = []

    static let reflector = "QTSSReflectorModule"

    init(path: String, root: ConfigXMLElement) {
        self.path = path
        self.server = root.first("SERVER")
        self.modules = root.all("MODULE")
    }

    /// The first PREF or LIST-PREF named `name`: in `module` first, then in SERVER (as DSS finds the first).
    func pref(_ name: String, module: String? = nil) -> ConfigXMLElement? {
        func find(_ container: ConfigXMLElement?) -> ConfigXMLElement? {
            container?.children.first { ($0.name == "PREF" || $0.name == "LIST-PREF") && $0.attributes["NAME"] == name }
        }
        if let module, let found = find(modules.first { $0.attributes["NAME"] == module }) { return found }
        return find(server)
    }

    /// A PREF's value, or a LIST-PREF's VALUEs, each with the line of its text.
    func values(_ pref: ConfigXMLElement) -> [(text: String, line: Int)] {
        pref.name == "PREF" ? [(pref.value, pref.textLine)] : pref.all("VALUE").map { ($0.value, $0.textLine) }
    }

    /// `rtsp_port 7070, 554` at the pref's line, or `rtsp_port absent: default ...`.
    func citation(_ pref: ConfigXMLElement?, _ name: String, default fallback: String) -> Citation {
        guard let pref else { return Citation(file: path, line: 0, text: "\(name) absent: default \(fallback)") }
        let shown = values(pref).map { Shown.value($0.text, limit: 30) }.joined(separator: ", ")
        return Citation(file: path, line: pref.line, text: ConfigValues.short("\(name) \(shown)".trimmingWhitespace()))
    }

    /// A Bool16 pref as DSS converts it (Server.tproj/QTSSDataConverter.cpp): only "true", in any
    /// case, is true. The reason says why it is off.
    func flag(_ name: String, module: String, default fallback: Bool) -> (on: Bool, reason: String, citation: Citation) {
        let found = pref(name, module: module)
        let cite = citation(found, name, default: fallback ? "true" : "false")
        guard let found, let value = values(found).first?.text else { return (fallback, "\(name) is \(fallback)", cite) }
        let on = value.lowercased() == "true"
        let reason = value.lowercased() == "false" ? "\(name) is false" : "\(name) is '\(Shown.value(value))' (dss reads only true as true)"
        return (on, reason, cite)
    }

    /// A UInt16 port pref's first value, or `fallback`.
    func port(_ name: String, module: String, default fallback: Int) throws(ConfigError) -> PortNumber {
        guard let found = pref(name, module: module), let value = values(found).first else { return try! PortNumber(fallback) }
        return try ConfigValues.port(
            value.text, what: "\(name) '\(Shown.value(value.text))'", example: String(fallback), file: path, line: value.line)
    }

    mutating func add(
        _ id: String, _ ports: [PortSpec], _ service: Service, purpose: String, direction: Direction = .in, from: SourceRef = .world,
        bind: BindAddress, citation: Citation
    ) {
        let numbers = ports.filter(\.range.isSingle).map(\.range.low)
        listeners.append(
            ConfigListener(
                id: id, purpose: purpose, ports: ports, service: service, direction: direction, from: from, bind: bind, citation: citation,
                conflicts: ConfigListener.webServerConflict(numbers)))
    }

    mutating func streaming() throws(ConfigError) {
        let portsPref = pref("rtsp_port")
        let portCite = citation(portsPref, "rtsp_port", default: "554, 7070, 8000, 8001")
        var ports: [PortNumber] = []
        var seen: Set<PortNumber> = []
        if let portsPref {
            for value in values(portsPref) {
                let port = try ConfigValues.port(
                    value.text, what: "rtsp_port value '\(Shown.value(value.text))'", example: "554", file: path, line: value.line)
                if seen.insert(port).inserted { ports.append(port) }
            }
            guard !ports.isEmpty else {
                throw ConfigError(
                    file: path, line: portsPref.line,
                    message: "rtsp_port has no value, so DSS would accept no connection; expected at least one, e.g. <VALUE>554</VALUE>")
            }
        } else {
            ports = [554, 7070, 8000, 8001].map { try! PortNumber($0) }
        }
        var binds: [BindAddress] = []
        var seenBinds: Set<BindAddress> = []
        for value in pref("bind_ip_addr").map(values) ?? [] where value.text != "0" {
            let bind = try ConfigValues.bind(
                value.text, what: "bind_ip_addr '\(Shown.value(value.text))'", example: "192.0.2.10, or 0 for all addresses", file: path,
                line: value.line, ipv4Only: true)
            if bind != .any, seenBinds.insert(bind).inserted { binds.append(bind) }
        }
        if binds.isEmpty { binds = [.any] }
        let mp3 = flag("mp3_streaming_enabled", module: "QTSSMP3StreamingModule", default: true)
        let web = ports.contains { $0.value == 80 }
        let music = mp3.on && ports.contains { $0.value == 8000 }
        let rtsp = ports.filter { $0.value != 80 && !(music && $0.value == 8000) }
        for (index, bind) in binds.enumerated() {
            let suffix = index == 0 ? "" : "-\(index + 1)"
            if !rtsp.isEmpty {
                add(
                    "rtsp" + suffix, rtsp.map(ConfigValues.tcp), .rtsp, purpose: "RTSP requests from clients (rtsp_port)", bind: bind,
                    citation: portCite)
            }
            if web {
                add(
                    "rtsp-http" + suffix, [ConfigValues.tcp(try! PortNumber(80))], .rtspHTTP,
                    purpose: "RTSP and media tunnelled over HTTP on port 80 (rtsp_port)", bind: bind, citation: portCite)
            }
            if music {
                add(
                    "mp3" + suffix, [ConfigValues.tcp(try! PortNumber(8000))], .icy,
                    purpose: "MP3 broadcasters and their listeners (QTSSMP3StreamingModule on rtsp_port 8000)", bind: bind,
                    citation: portCite)
            }
        }
        if !web {
            closed.append(
                ConfigClosed(
                    id: "rtsp-http", ports: [ConfigValues.tcp(try! PortNumber(80))], reason: "80 is not among rtsp_port", citation: portCite
                ))
        }
        if !mp3.on {
            closed.append(ConfigClosed(id: "mp3", ports: [], reason: mp3.reason, citation: mp3.citation))
        } else if !music {
            closed.append(
                ConfigClosed(
                    id: "mp3", ports: [], reason: "8000 is not among rtsp_port (mp3 is served on the rtsp ports)", citation: portCite))
        }
        add(
            "media", [PortSpec(try! PortRange(PortNumber(6970), PortNumber(6999)), .udp)], .rtp,
            purpose: "RTP/RTCP media sent to clients, and their RTCP reports", direction: .both, bind: binds.count == 1 ? binds[0] : .any,
            citation: Citation(file: path, line: 0, text: "RTP media ports are no pref: UDP 6970-6999 (DSS pairs from 6970 up)"))
        try broadcast()
    }

    mutating func broadcast() throws(ConfigError) {
        let allow = flag("allow_broadcasts", module: Self.reflector, default: true)
        let enforce = flag("enforce_static_sdp_port_range", module: Self.reflector, default: false)
        let range: PortRange
        let cite: Citation
        if enforce.on {
            let low = try port("minimum_static_sdp_port", module: Self.reflector, default: 20000)
            let high = try port("maximum_static_sdp_port", module: Self.reflector, default: 65535)
            let lowPref = pref("minimum_static_sdp_port", module: Self.reflector)
            let highPref = pref("maximum_static_sdp_port", module: Self.reflector)
            guard low <= high else {
                throw ConfigError(
                    file: path, line: highPref?.line ?? lowPref?.line ?? enforce.citation.line,
                    message: "minimum_static_sdp_port \(low) is above maximum_static_sdp_port \(high); expected minimum <= maximum")
            }
            range = try! PortRange(low, high)
            cite = Citation(
                file: path, line: lowPref?.line ?? highPref?.line ?? enforce.citation.line,
                text: "minimum_static_sdp_port \(low), maximum_static_sdp_port \(high)")
        } else {
            range = try! PortRange(PortNumber(10000), PortNumber(65535))
            let text = enforce.citation.line > 0 ? enforce.citation.text : "enforce_static_sdp_port_range absent (false)"
            cite = Citation(file: path, line: enforce.citation.line, text: ConfigValues.short("\(text): any port; guide's 10000-65535"))
        }
        let ports = [PortSpec(range, .udp)]
        guard allow.on else {
            closed.append(ConfigClosed(id: "broadcast", ports: ports, reason: allow.reason, citation: allow.citation))
            return
        }
        add(
            "broadcast", ports, .broadcast, purpose: "Live streams pushed by broadcasters (encoders) to the reflector", from: .broadcasters,
            bind: .any, citation: cite)
    }

    /// streamingadminserver.conf: `name=value` lines, `#` comments at the start of a line, the last
    /// value of a name counting (as streamingadminserver.pl reads it); nil `text` when there is none.
    mutating func admin(file: String, text: String?) throws(ConfigError) {
        var entries: [String: (value: String, line: Int, text: String)] = [:]
        // By newline Character: "\r\n" is one Character, so splitting on "\n" would not split a CRLF file.
        for (offset, line) in (text ?? "").split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "="), equals != line.startIndex else { continue }
            let name = line[..<equals].trimmingWhitespace()
            let value = line[line.index(after: equals)...].trimmingWhitespace()
            entries[name] = (value, offset + 1, ConfigValues.short(line.trimmingWhitespace()))
        }
        func cite(_ name: String, default fallback: Int) -> Citation {
            guard let entry = entries[name] else {
                return Citation(
                    file: file, line: 0,
                    text: text == nil ? "not found: default \(name)=\(fallback)" : "\(name) absent: default \(fallback)")
            }
            return Citation(file: file, line: entry.line, text: entry.text)
        }
        func port(_ name: String, default fallback: Int) throws(ConfigError) -> PortNumber {
            guard let entry = entries[name] else { return try! PortNumber(fallback) }
            return try ConfigValues.port(entry.value, what: entry.text, example: "\(name)=\(fallback)", file: file, line: entry.line)
        }
        var bind = BindAddress.any
        if let entry = entries["bind"], !entry.value.isEmpty, entry.value != "0" {
            bind = try ConfigValues.bind(entry.value, what: entry.text, example: "192.0.2.10", file: file, line: entry.line, ipv4Only: true)
        }
        let purpose = "Remote administration (Streaming Server Admin, streamingadminserver.pl)"
        add(
            "admin", [ConfigValues.tcp(try port("port", default: 1220))], .admin, purpose: purpose, from: .admins, bind: bind,
            citation: cite("port", default: 1220))
        guard let ssl = entries["ssl"], !ssl.value.isEmpty else { return }
        guard ssl.value.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ConfigError(
                file: file, line: ssl.line, message: "\(ssl.text): '\(Shown.value(ssl.value))' is not 0 or 1; expected ssl=1 or ssl=0")
        }
        guard ssl.value.contains(where: { $0 != "0" }) else { return }
        add(
            "admin-ssl", [ConfigValues.tcp(try port("sslport", default: 1240))], .https, purpose: purpose + " over HTTPS (ssl=1)",
            from: .admins, bind: bind, citation: cite("sslport", default: 1240))
    }
}
