import PortModel

/// Reads a server's configuration file and turns it into the profile a plan uses (`--config`).
public enum ServerConfigs {
    /// Reads `path` as a `kind` configuration; nil `kind` recognises it from the file.
    public static func read(path: String, kind: ConfigKind?, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let text = try files.read(path)
        let detected = detect(path: path, text: text)
        let chosen: ConfigKind
        if let kind {
            if let detected, detected != kind, isCertain(detected, text: text) {
                throw ConfigError(
                    file: path, line: 0,
                    message:
                        "looks like a configuration of \(detected), not of \(kind); name the \(detected) profile, or leave the profile out")
            }
            chosen = kind
        } else {
            guard let detected else {
                throw ConfigError(
                    file: path, line: 0,
                    message:
                        "cannot tell which server this configuration is for; name its profile, e.g. portctl plan mediamtx --config \(path) (readers: \(ConfigKind.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
            chosen = detected
        }
        switch chosen {
        case .mediamtx: return try MediaMTXConfigReader.read(path: path, files: files)
        case .dss: return try DSSConfigReader.read(path: path, files: files)
        case .nginxRTMP: return try NginxRTMPConfigReader.read(path: path, files: files)
        case .icecast: return try IcecastConfigReader.read(path: path, files: files)
        case .wowza: return try WowzaConfigReader.read(path: path, files: files)
        case .srs: return try SRSConfigReader.read(path: path, files: files)
        }
    }

    /// The kind a configuration's text (or, failing that, its file name) shows.
    public static func detect(path: String, text: String) -> ConfigKind? {
        let head = String(text.prefix(65536))
        if head.contains("<icecast") { return .icecast }
        if head.contains("<CONFIGURATION") && (head.contains("rtsp_port") || head.contains("<SERVER")) { return .dss }
        if head.contains("<Root") && (head.contains("<VHost") || head.contains("<Server") || head.contains("<HostPortList")) {
            return .wowza
        }
        let words = head.split(whereSeparator: \.isNewline).map { $0.trimmingWhitespace() }
        func starts(_ prefixes: [String]) -> Bool { words.contains { line in prefixes.contains { line.hasPrefix($0) } } }
        if starts(["rtspAddress:", "rtmpAddress:", "hlsAddress:", "webrtcAddress:", "srtAddress:", "rtspTransports:", "paths:"]) {
            return .mediamtx
        }
        if starts(["rtmp {", "rtmp{"]) { return .nginxRTMP }
        if starts(["http_api", "rtc_server", "srt_server", "vhost __defaultVhost__", "http_server"]) { return .srs }
        if starts(["http {", "http{", "events {", "events{", "worker_processes"]) { return .nginxRTMP }
        let name = path.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
        if name.hasPrefix("mediamtx") || name.hasPrefix("rtsp-simple-server") { return .mediamtx }
        if name == "streamingserver.xml" { return .dss }
        if name.hasPrefix("icecast") { return .icecast }
        if name == "vhost.xml" || name == "server.xml" { return .wowza }
        if name.hasPrefix("srs") { return .srs }
        if name.hasPrefix("nginx") { return .nginxRTMP }
        return nil
    }

    /// True when the text's own markers (not only its name) show `kind`: only then may they
    /// overrule the profile the admin named.
    static func isCertain(_ kind: ConfigKind, text: String) -> Bool {
        detect(path: "", text: text) == kind
    }

    /// The profile a configuration gives: the bundled profile's title and source sets, with the
    /// configuration's openings, each citing its line. A listener on loopback only is left closed.
    public static func profile(_ config: ServerConfig, base: Profile) -> Profile {
        var openings: [Opening] = []
        var closed: [ConfiguredClosed] = config.closed.map {
            ConfiguredClosed(id: $0.id, ports: $0.ports, reason: $0.reason, citation: $0.citation.description)
        }
        for listener in config.listeners {
            switch listener.bind {
            case .loopback(let text):
                closed.append(
                    ConfiguredClosed(
                        id: listener.id, ports: listener.ports, reason: "listens on \(text) only", citation: listener.citation.description))
            case .any, .address:
                var destination: CIDR?
                if case .address(let cidr) = listener.bind { destination = cidr }
                // nginx's own http { } listeners are the web server: they do not conflict with it.
                let conflicts = config.kind == .nginxRTMP ? nil : listener.conflicts
                openings.append(
                    Opening(
                        id: listener.id, purpose: listener.purpose, ports: listener.ports, service: listener.service,
                        direction: listener.direction, from: listener.from, conflicts: conflicts,
                        citation: listener.citation.description, destination: destination))
            }
        }
        return Profile(
            name: base.name, title: base.title, description: base.description,
            source: "the server's configuration: \(config.files.joined(separator: ", "))", options: [:], sourceSets: base.sourceSets,
            openings: openings, origin: config.path,
            configuration: ProfileConfiguration(
                kind: config.kind.rawValue, path: config.path, files: config.files, closed: closed, streamPaths: config.streamPaths))
    }
}
