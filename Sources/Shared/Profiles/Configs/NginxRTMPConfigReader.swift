import PortModel

/// Reads an nginx configuration (nginx.conf and what it includes) for the ports nginx with
/// arut/nginx-rtmp-module listens on.
///
/// - `rtmp { server { listen ...; } }`: TCP, service `rtmp`; ids `rtmp`, then `rtmp-PORT`. The
///   module has no default port (`ngx_rtmp_core_listen` sets none), so an rtmp server without a
///   `listen` listens nowhere: it is reported closed ("no listen"), as is a missing `rtmp { }`.
///   `application NAME { }` names become `streamPaths[.rtmp]`.
/// - `http { server { listen ...; } }`: TCP, service `http` (ids `http`, `http-PORT`), `https`
///   with `ssl` (`https`, `https-PORT`), UDP `https` with `quic` (`quic`, `quic-PORT`). A server
///   without `listen` listens on 80, nginx's default when started as root; so does a listen
///   with an address only.
/// - `stream { server { listen ...; } }` (the TCP/UDP proxy) and `mail { }`: service `other`, UDP
///   with `udp`; ids `stream-PORT`, `stream-udp-PORT`, `mail-PORT`. nginx listens on them, so the
///   firewall must know; stream's port ranges (`listen 12345-12399;`) are read.
/// - `listen unix:PATH` is no port and is skipped. Ports 80 and 443 get `conflicts: web-server`.
///   The same ports and bind listed twice (`listen 80;` and `listen [::]:80;`) are one listener,
///   citing the first.
///
/// Other directives are ignored: nginx has hundreds, none of which opens a port.
public enum NginxRTMPConfigReader {
    /// Reads `path` and its includes. Any syntax error, unreadable include or malformed `listen`
    /// throws one `ConfigError` at the file and line where it is, and nothing is returned.
    public static func read(path: String, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let tree = try NginxConfigSyntax.load(path: path, files: files, style: .nginx)
        var set = NginxListenerSet()
        var applications: [String] = []
        var listenless: [NginxDirective] = []
        let rtmpBlocks = tree.all("rtmp").filter { $0.children != nil }
        for server in rtmpBlocks.flatMap({ $0.all("server") }) where server.children != nil {
            let listens = server.all("listen")
            if listens.isEmpty { listenless.append(server) }
            for directive in listens {
                guard let listen = try listen(directive, module: .rtmp) else { continue }
                set.add(
                    base: "rtmp", bare: true, purpose: "RTMP publishing and playback (rtmp server \(directive.text.dropLast()))",
                    ports: [listen.spec], service: .rtmp, bind: listen.bind, citation: directive.citation)
            }
            for application in server.all("application") where application.children != nil {
                if let name = application.args.first, !applications.contains(name) { applications.append(name) }
            }
        }
        let httpBlocks = tree.all("http").filter { $0.children != nil }
        for server in httpBlocks.flatMap({ $0.all("server") }) where server.children != nil {
            try readHTTP(server, into: &set)
        }
        for module in [NginxListenModule.stream, .mail] {
            for server in tree.all(module.rawValue).flatMap({ $0.all("server") }) where server.children != nil {
                try readProxy(server, module: module, into: &set)
            }
        }
        if rtmpBlocks.isEmpty {
            let absent = Citation(file: path, line: 0, text: "rtmp { } absent: nginx-rtmp-module listens nowhere")
            set.close(base: "rtmp", ports: [], reason: "no rtmp block", citation: absent)
        }
        for server in listenless {
            let citation = Citation(file: server.file, line: server.line, text: "server { } has no listen: nginx-rtmp has no default port")
            set.close(base: "rtmp", ports: [], reason: "no listen", citation: citation)
        }
        if httpBlocks.isEmpty {
            set.close(
                base: "http", ports: [], reason: "no http block",
                citation: Citation(file: path, line: 0, text: "http { } absent: no HTTP server"))
        }
        return ServerConfig(
            kind: .nginxRTMP, path: path, files: tree.files, listeners: set.listeners, closed: set.closed,
            streamPaths: applications.isEmpty ? [:] : [.rtmp: applications])
    }

    /// An http `server { }`: its listens, or port 80 when it has none.
    private static func readHTTP(_ server: NginxDirective, into set: inout NginxListenerSet) throws(ConfigError) {
        let listens = server.all("listen")
        guard !listens.isEmpty else {
            let port = PortSpec(PortRange(single: try! PortNumber(80)), .tcp)
            let citation = Citation(file: server.file, line: server.line, text: "server { } has no listen: default 80")
            set.add(
                base: "http", bare: true, purpose: "HTTP server in http { } (no listen: default 80)", ports: [port], service: .http,
                bind: .any,
                citation: citation)
            return
        }
        for directive in listens {
            guard let listen = try listen(directive, module: .http) else { continue }
            let written = directive.text.dropLast() + (listen.defaultPort ? ", default port 80" : "")
            let (base, service, what): (String, Service, String) =
                listen.transport == .udp
                ? ("quic", .https, "HTTP/3 over QUIC") : listen.tls ? ("https", .https, "HTTPS server") : ("http", .http, "HTTP server")
            set.add(
                base: base, bare: true, purpose: "\(what) in http { } (\(written))", ports: [listen.spec], service: service,
                bind: listen.bind,
                citation: directive.citation)
        }
    }

    /// A stream or mail `server { }`: nginx refuses one without a listen.
    private static func readProxy(_ server: NginxDirective, module: NginxListenModule, into set: inout NginxListenerSet) throws(ConfigError)
    {
        let listens = server.all("listen")
        guard !listens.isEmpty else {
            throw ConfigError(
                file: server.file, line: server.line,
                message: "server { } in \(module.rawValue) { } has no listen, and nginx refuses to start "
                    + "(no \"listen\" is defined for server); expected e.g. listen \(module.example);")
        }
        for directive in listens {
            guard let listen = try listen(directive, module: module) else { continue }
            let udp = listen.transport == .udp
            let what = module == .mail ? "Mail proxy" : udp ? "UDP proxy" : "TCP proxy"
            set.add(
                base: module == .stream && udp ? "stream-udp" : module.rawValue, bare: false,
                purpose: "\(what) in \(module.rawValue) { } (\(directive.text.dropLast()))", ports: [listen.spec], service: .other,
                bind: listen.bind, citation: directive.citation)
        }
    }
}
