import PortModel

/// Reads an SRS configuration (srs.conf and what it includes) for the ports SRS listens on, with
/// the defaults SRS applies (ossrs/srs trunk/src/app/srs_app_config.cpp, commit 101382a, v7.0.18):
///
/// - top-level `listen 1935 [[ADDRESS:]PORT...];`: RTMP over TCP, ids `rtmp`, `rtmp-PORT`. SRS
///   refuses to start without it ("listen requires params"), and so does this.
/// - `http_api { enabled on; listen 1985; https { enabled on; listen 1990; } }`: service `admin`
///   from `admins`, ids `http-api`, `https-api`. The HTTPS default follows `http_server`'s HTTPS
///   port (8088) when the API shares the HTTP server's port; with both on that port SRS serves the
///   API from the HTTP server and it has no listener of its own.
/// - `http_server { enabled on; listen 8080; https { enabled on; listen 8088; } }`: `http` and
///   `https`, ids `http-server`, `https-server`.
/// - `rtc_server { enabled on; listen 8000; tcp { enabled on; listen 8000; } }`: WebRTC on UDP
///   (id `rtc`, direction both) and over TCP (`rtc-tcp`, unless an HTTP(S) server has that port).
/// - `srt_server { enabled on; listen 10080; }`: SRT on UDP, id `srt`.
/// - `exporter { enabled on; listen 9972; }`: Prometheus metrics, from `admins`, id `exporter`.
/// - `stream_caster { enabled on; caster mpegts_over_udp|flv|gb28181; listen PORT; }`: ingest
///   from `broadcasters`, ids `mpegts-udp` (UDP), `flv-push`, `gb28181` and its SIP server
///   `gb28181-sip` (`sip { enabled on; listen 5060; }`, on unless `enabled off`).
///
/// Every section is off unless its `enabled` says `on` (SRS reads any other value as off); an
/// off section is reported closed: `disabled` for `enabled off`, `off by default` when absent.
/// SRS reads only the first `listen` or `enabled` of a section, and so does this. SRS's
/// environment overrides (`SRS_LISTEN`, `SRS_HTTP_API_ENABLED`, ...) are not visible in the file
/// and are not applied. SRS names no applications in its configuration: `streamPaths` is empty.
public enum SRSConfigReader {
    /// Reads `path` and its includes. Any syntax error, unreadable include, malformed `listen`,
    /// or combination SRS refuses to start with throws one `ConfigError` at its file and line.
    public static func read(path: String, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let tree = try NginxConfigSyntax.load(path: path, files: files, style: .srs)
        var reader = Reader(tree: tree, path: path)
        try reader.readRTMP()
        try reader.readHTTP()
        try reader.readRTC()
        try reader.readSimple(
            section: "srt_server", id: "srt", what: "SRT publishing and playback", port: 10080, transport: .udp, service: .srt)
        try reader.readExporter()
        for caster in tree.all("stream_caster") where caster.children != nil {
            try reader.readCaster(caster)
        }
        return ServerConfig(kind: .srs, path: path, files: tree.files, listeners: reader.set.listeners, closed: reader.set.closed)
    }

    /// Whether a section is on, and the line that says so.
    struct Switch {
        let on: Bool
        /// Why it is off: `disabled`, `off by default`, `enabled is "yes", not on`.
        let reason: String
        let citation: Citation
    }

    /// A listen value with the line it comes from: the directive, or the section for a default.
    struct Endpoint {
        let value: String
        let citation: Citation
        let isDefault: Bool
    }

    struct Reader {
        let tree: NginxConfigTree
        let path: String
        var set = NginxListenerSet()

        /// SRS's `enabled`: on only when it says `on` (SRS_CONF_PREFER_FALSE), or, for `preferOn`
        /// sections, unless it says `off` (SRS_CONF_PREFER_TRUE). `name` is the section's path
        /// (`http_api https`); `parent` the block that holds it, cited when the section is absent.
        func enabled(_ block: NginxDirective?, _ name: String, parent: NginxDirective? = nil, preferOn: Bool = false) -> Switch {
            let initial = preferOn ? "on" : "off"
            guard let block else {
                return Switch(on: preferOn, reason: "off by default", citation: absent(name, parent: parent, what: "default \(initial)"))
            }
            guard let directive = block.first("enabled"), let value = directive.args.first, !value.isEmpty else {
                let citation = Citation(file: block.file, line: block.line, text: "\(block.name) { } has no enabled: default \(initial)")
                return Switch(on: preferOn, reason: "off by default", citation: citation)
            }
            let on = preferOn ? value != "off" : value == "on"
            let reason = value == "off" ? "disabled" : "enabled is \"\(Shown.value(value, limit: 20))\", not on"
            return Switch(on: on, reason: reason, citation: directive.citation)
        }

        /// A section's `listen` (its first argument), or SRS's default for it.
        func endpoint(_ block: NginxDirective?, _ name: String, parent: NginxDirective? = nil, default value: String) -> Endpoint {
            if let directive = block?.first("listen"), let first = directive.args.first, !first.isEmpty {
                return Endpoint(value: first, citation: directive.citation, isDefault: false)
            }
            guard let block else {
                return Endpoint(value: value, citation: absent(name, parent: parent, what: "listen \(value)"), isDefault: true)
            }
            let citation = Citation(file: block.file, line: block.line, text: "\(block.name) { } has no listen: default \(value)")
            return Endpoint(value: value, citation: citation, isDefault: true)
        }

        /// The citation for a section that is not written: its parent block's line, or line 0.
        private func absent(_ name: String, parent: NginxDirective?, what: String) -> Citation {
            guard let parent else { return Citation(file: path, line: 0, text: "\(name) absent: \(what)") }
            let child = name.split(separator: " ").last.map(String.init) ?? name
            return Citation(file: parent.file, line: parent.line, text: "\(parent.name) { } has no \(child): \(what)")
        }

        /// `[ADDRESS:]PORT`, as SRS's `srs_parse_endpoint` reads RTMP, HTTP and exporter listens.
        func address(_ endpoint: Endpoint, _ name: String, example: String) throws(ConfigError) -> (bind: BindAddress, port: PortSpec) {
            let what = name == "listen" ? "listen" : "\(name) listen"
            let parsed: ListenAddress
            do throws(ListenAddressError) {
                parsed = try ListenAddress.parse(endpoint.value, what: what, example: example)
            } catch {
                throw ConfigError(file: endpoint.citation.file, line: endpoint.citation.line, message: error.message)
            }
            guard let port = parsed.port else {
                throw ConfigError(
                    file: endpoint.citation.file, line: endpoint.citation.line,
                    message: "\(what) '\(Shown.value(endpoint.value))': no port; expected [HOST]:PORT, e.g. \(example)")
            }
            return (parsed.bind, PortSpec(PortRange(single: port), .tcp))
        }

        /// A bare port, as SRS reads the WebRTC, SRT and stream caster listens (`atoi`: no address).
        func port(_ endpoint: Endpoint, _ name: String, transport: Transport, example: Int = 8000) throws(ConfigError) -> PortSpec {
            do throws(ModelError) {
                return PortSpec(PortRange(single: try PortNumber(parsing: endpoint.value)), transport)
            } catch {
                throw ConfigError(
                    file: endpoint.citation.file, line: endpoint.citation.line,
                    message: "\(name) listen '\(Shown.value(endpoint.value))': \(error.description); "
                        + "expected a port alone (SRS listens on every address), e.g. listen \(example);")
            }
        }

        mutating func readRTMP() throws(ConfigError) {
            guard let listen = tree.first("listen"), !listen.args.isEmpty else {
                let line = tree.first("listen")?.line ?? 0
                let file = tree.first("listen")?.file ?? path
                throw ConfigError(
                    file: file, line: line,
                    message: "no RTMP listen: SRS refuses to start without one (listen requires params); expected e.g. listen 1935;")
            }
            for value in listen.args {
                let endpoint = Endpoint(value: value, citation: listen.citation, isDefault: false)
                let (bind, port) = try address(endpoint, "listen", example: "1935")
                set.add(
                    base: "rtmp", bare: true, purpose: "RTMP publishing and playback (listen \(Shown.value(value)))", ports: [port],
                    service: .rtmp, bind: bind, citation: listen.citation)
            }
        }
    }
}
