import PortModel

extension SRSConfigReader.Reader {
    /// `http_api` and `http_server`, each with its `https`, as `SrsServer::initialize` and
    /// `SrsConfig::check_normal_config` combine them.
    mutating func readHTTP() throws(ConfigError) {
        let api = tree.first("http_api")
        let server = tree.first("http_server")
        let apiTLS = api?.first("https")
        let serverTLS = server?.first("https")
        let apiListen = endpoint(api, "http_api", default: "1985")
        let serverListen = endpoint(server, "http_server", default: "8080")
        let serverTLSListen = endpoint(serverTLS, "http_server https", parent: server, default: "8088")
        let shared = apiListen.value == serverListen.value
        let apiTLSListen = endpoint(apiTLS, "http_api https", parent: api, default: shared ? serverTLSListen.value : "1990")
        if shared != (apiTLSListen.value == serverTLSListen.value) {
            let at = apiTLSListen.citation.line > 0 ? apiTLSListen.citation : apiListen.citation
            let (same, differ) = shared ? ("listen", "https listen") : ("https listen", "listen")
            throw ConfigError(
                file: at.file, line: at.line,
                message: "http_api and http_server have the same \(same) but not the same \(differ) "
                    + "(http_api: \(shared ? apiTLSListen.value : apiListen.value), http_server: "
                    + "\(shared ? serverTLSListen.value : serverListen.value)), and SRS refuses to start; "
                    + "expected both pairs the same (the API served by the HTTP server) or both different")
        }
        let apiOn = enabled(api, "http_api")
        let apiTLSOn = enabled(apiTLS, "http_api https", parent: api)
        let serverOn = enabled(server, "http_server")
        let serverTLSOn = enabled(serverTLS, "http_server https", parent: server)
        for (tls, plain, name) in [(apiTLSOn, apiOn, "http_api"), (serverTLSOn, serverOn, "http_server")] where tls.on && !plain.on {
            throw ConfigError(
                file: tls.citation.file, line: tls.citation.line,
                message: "\(name) https is enabled but \(name) is not, and SRS refuses to start (https depends on http); "
                    + "expected \(name) { enabled on; } as well")
        }
        let reuse = serverOn.on && apiOn.on && shared
        let webRTC = enabled(tree.first("rtc_server"), "rtc_server").on
        let note = reuse ? ", also serving the HTTP API" : ""
        let sections: [(SRSConfigReader.Switch, SRSConfigReader.Endpoint, id: String, what: String, Service, SourceRef, own: Bool)] = [
            (apiOn, apiListen, "http-api", webRTC ? "HTTP API and WebRTC signalling" : "HTTP API", .admin, .admins, !reuse),
            (apiTLSOn, apiTLSListen, "https-api", "HTTPS API", .admin, .admins, !reuse),
            (serverOn, serverListen, "http-server", "HTTP-FLV, HLS and web pages", .http, .world, true),
            (serverTLSOn, serverTLSListen, "https-server", "HTTPS streaming", .https, .world, true),
        ]
        for (state, listen, id, what, service, from, own) in sections {
            guard state.on else {
                let ports = (try? address(listen, listenName(id), example: "8080")).map { [$0.port] } ?? []
                set.close(base: id, ports: ports, reason: state.reason, citation: state.citation)
                continue
            }
            guard own else { continue }
            let (bind, port) = try address(listen, listenName(id), example: id.hasSuffix("api") ? "1985" : "8080")
            let purpose = "\(what) (\(listenName(id)) listen \(Shown.value(listen.value))\(service == .admin ? "" : note))"
            set.add(
                base: id, bare: true, purpose: purpose, ports: [port], service: service, from: from, bind: bind, citation: listen.citation)
        }
    }

    private func listenName(_ id: String) -> String {
        switch id {
        case "http-api": return "http_api"
        case "https-api": return "http_api https"
        case "http-server": return "http_server"
        default: return "http_server https"
        }
    }

    /// `rtc_server`: WebRTC media on UDP, and over TCP unless an HTTP(S) server has that port
    /// (`SrsServer::initialize` then reuses the server's socket for it).
    mutating func readRTC() throws(ConfigError) {
        let rtc = tree.first("rtc_server")
        let tcp = rtc?.first("tcp")
        let rtcOn = enabled(rtc, "rtc_server")
        let udpListen = endpoint(rtc, "rtc_server", default: "8000")
        if rtcOn.on {
            let port = try port(udpListen, "rtc_server", transport: .udp)
            set.add(
                base: "rtc", bare: true, purpose: "WebRTC media over UDP (rtc_server listen \(port.range))", ports: [port],
                service: .webrtc,
                direction: .both, bind: .any, citation: udpListen.citation)
        } else {
            let ports = (try? port(udpListen, "rtc_server", transport: .udp)).map { [$0] } ?? []
            set.close(base: "rtc", ports: ports, reason: rtcOn.reason, citation: rtcOn.citation)
        }
        let tcpOn = enabled(tcp, "rtc_server tcp", parent: rtc)
        let tcpListen = endpoint(tcp, "rtc_server tcp", parent: rtc, default: "8000")
        guard tcpOn.on else {
            let ports = (try? port(tcpListen, "rtc_server tcp", transport: .tcp)).map { [$0] } ?? []
            set.close(base: "rtc-tcp", ports: ports, reason: tcpOn.reason, citation: tcpOn.citation)
            return
        }
        let port = try port(tcpListen, "rtc_server tcp", transport: .tcp)
        let server = tree.first("http_server")
        let httpListens = [
            endpoint(server, "http_server", default: "8080").value, endpoint(server?.first("https"), "https", default: "8088").value,
        ]
        if rtcOn.on, enabled(server, "http_server").on, httpListens.contains(String(port.range.low.value)) { return }
        set.add(
            base: "rtc-tcp", bare: true, purpose: "WebRTC media over TCP (rtc_server tcp listen \(port.range))", ports: [port],
            service: .webrtc, bind: .any, citation: tcpListen.citation)
    }

    /// A section with `enabled` and a bare-port `listen` (`srt_server`).
    mutating func readSimple(
        section: String, id: String, what: String, port defaultPort: Int, transport: Transport, service: Service
    ) throws(ConfigError) {
        let block = tree.first(section)
        let state = enabled(block, section)
        let listen = endpoint(block, section, default: String(defaultPort))
        guard state.on else {
            let ports = (try? port(listen, section, transport: transport)).map { [$0] } ?? []
            set.close(base: id, ports: ports, reason: state.reason, citation: state.citation)
            return
        }
        let spec = try port(listen, section, transport: transport, example: defaultPort)
        set.add(
            base: id, bare: true, purpose: "\(what) (\(section) listen \(spec.range))", ports: [spec], service: service, bind: .any,
            citation: listen.citation)
    }

    /// `exporter`: Prometheus metrics over HTTP, for the admins.
    mutating func readExporter() throws(ConfigError) {
        let block = tree.first("exporter")
        let state = enabled(block, "exporter")
        let listen = endpoint(block, "exporter", default: "9972")
        guard state.on else {
            let ports = (try? address(listen, "exporter", example: "9972")).map { [$0.port] } ?? []
            set.close(base: "exporter", ports: ports, reason: state.reason, citation: state.citation)
            return
        }
        let (bind, port) = try address(listen, "exporter", example: "9972")
        set.add(
            base: "exporter", bare: true, purpose: "Prometheus metrics (exporter listen \(Shown.value(listen.value)))", ports: [port],
            service: .http, from: .admins, bind: bind, citation: listen.citation)
    }
}
