import PortModel

extension SRSConfigReader.Reader {
    /// What one kind of stream caster opens (`srs_stream_caster_is_udp`, `_is_flv`, `_is_gb28181`).
    private static let casters: [String: (id: String, what: String, transport: Transport, service: Service, example: Int)] = [
        "mpegts_over_udp": ("mpegts-udp", "MPEG-TS pushed over UDP", .udp, .broadcast, 8935),
        "flv": ("flv-push", "FLV pushed by HTTP POST", .tcp, .http, 8936),
        "gb28181": ("gb28181", "GB28181 media over TCP", .tcp, .other, 9000),
    ]

    /// One `stream_caster { }`: off unless `enabled on`; then its `caster` must be one SRS knows
    /// and its `listen` a port (SRS has no default: "invalid port=0"). A GB28181 caster also runs
    /// a SIP server on TCP 5060 unless `sip { enabled off; }`.
    mutating func readCaster(_ block: NginxDirective) throws(ConfigError) {
        let state = enabled(block, "stream_caster")
        let engineDirective = block.first("caster")
        let engine = engineDirective?.args.first ?? ""
        let kind = Self.casters[engine]
        let listen = endpoint(block, "stream_caster", default: "")
        guard state.on else {
            let ports = (try? port(listen, "stream_caster", transport: kind?.transport ?? .tcp)).map { [$0] } ?? []
            set.close(base: kind?.id ?? "stream-caster", ports: ports, reason: state.reason, citation: state.citation)
            return
        }
        guard let kind else {
            let at = engineDirective?.citation ?? block.citation
            throw ConfigError(
                file: at.file, line: at.line,
                message: "stream_caster caster '\(Shown.value(engine))' is not one SRS knows (invalid caster); "
                    + "expected caster mpegts_over_udp, flv or gb28181")
        }
        guard !listen.isDefault else {
            throw ConfigError(
                file: block.file, line: block.line,
                message: "stream_caster { } (caster \(engine)) has no listen, and SRS refuses to start (invalid port=0); "
                    + "expected e.g. listen \(kind.example);")
        }
        let spec = try port(listen, "stream_caster", transport: kind.transport, example: kind.example)
        set.add(
            base: kind.id, bare: true, purpose: "\(kind.what) (stream_caster \(engine) listen \(spec.range))", ports: [spec],
            service: kind.service, from: .broadcasters, bind: .any, citation: listen.citation)
        guard engine == "gb28181" else { return }
        let sip = block.first("sip")
        let sipOn = enabled(sip, "stream_caster sip", parent: block, preferOn: true)
        let sipListen = endpoint(sip, "stream_caster sip", parent: block, default: "5060")
        guard sipOn.on else {
            let ports = (try? port(sipListen, "stream_caster sip", transport: .tcp)).map { [$0] } ?? []
            set.close(base: "gb28181-sip", ports: ports, reason: sipOn.reason, citation: sipOn.citation)
            return
        }
        let sipPort = try port(sipListen, "stream_caster sip", transport: .tcp, example: 5060)
        set.add(
            base: "gb28181-sip", bare: true, purpose: "GB28181 SIP signalling over TCP (stream_caster sip listen \(sipPort.range))",
            ports: [sipPort], service: .other, from: .broadcasters, bind: .any, citation: sipListen.citation)
    }
}
