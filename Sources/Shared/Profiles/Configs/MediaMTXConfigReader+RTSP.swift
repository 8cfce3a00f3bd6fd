import PortModel

extension MediaMTXConfigReader.Reader {
    /// RTSP, RTSPS and their UDP ports, as `rtsp`, `rtspTransports` and `rtspEncryption` decide.
    mutating func rtsp() throws(ConfigError) {
        let rtsp = try enabled("rtsp")
        let transportsKey = values["protocols"] != nil && values["rtspTransports"] == nil ? "protocols" : "rtspTransports"
        let transports = try list(transportsKey, allowed: ["udp", "multicast", "tcp"]) ?? ["udp", "multicast", "tcp"]
        let transportsCite = citation(transportsKey, default: "[udp, multicast, tcp]")
        let encryptionKey = values["encryption"] != nil && values["rtspEncryption"] == nil ? "encryption" : "rtspEncryption"
        let encryption = try choice(encryptionKey, ["no", "optional", "strict"], default: "no")
        let encryptionCite = citation(encryptionKey, default: "no")
        let plain = !rtsp.0 ? rtsp : (encryption != "strict", "\(encryptionKey) is strict", encryptionCite)
        let secure = !rtsp.0 ? rtsp : (encryption != "no", "\(encryptionKey) is no", encryptionCite)
        let udp = (transports.contains("udp"), "\(transportsKey) has no udp", transportsCite)
        func both(_ first: (Bool, String, Citation), _ second: (Bool, String, Citation)) -> (Bool, String, Citation) {
            first.0 ? second : first
        }
        try listen(
            "rtsp", "rtspAddress", default: ":8554", transport: .tcp, service: .rtsp,
            purpose: "RTSP requests from publishers and readers (rtspAddress)", enabled: plain)
        try listen(
            "rtp", "rtpAddress", default: ":8000", transport: .udp, service: .rtp, purpose: "RTP over UDP for RTSP sessions (rtpAddress)",
            direction: .both, enabled: both(plain, udp))
        try listen(
            "rtcp", "rtcpAddress", default: ":8001", transport: .udp, service: .rtp,
            purpose: "RTCP over UDP for RTSP sessions (rtcpAddress)",
            direction: .both, enabled: both(plain, udp))
        try listen(
            "rtsps", "rtspsAddress", default: ":8322", transport: .tcp, service: .rtsp, purpose: "RTSPS requests over TLS (rtspsAddress)",
            enabled: secure)
        try listen(
            "srtp", "srtpAddress", default: ":8004", transport: .udp, service: .rtp,
            purpose: "SRTP over UDP for RTSPS sessions (srtpAddress)",
            direction: .both, enabled: both(secure, udp))
        try listen(
            "srtcp", "srtcpAddress", default: ":8005", transport: .udp, service: .rtp,
            purpose: "SRTCP over UDP for RTSPS sessions (srtcpAddress)", direction: .both, enabled: both(secure, udp))
        // Multicast is used only when a reader asks for it; as in the bundled profile, its ports are
        // opened only when the configuration lists multicast explicitly.
        let multicast = (
            values[transportsKey] != nil && transports.contains("multicast"),
            values[transportsKey] == nil
                ? "\(transportsKey) absent: multicast is opened only when listed" : "\(transportsKey) has no multicast",
            transportsCite
        )
        let low = try port("multicastRTPPort", default: 8002)
        let high = try port("multicastRTCPPort", default: 8003)
        let specs = [low, high].map { PortSpec(PortRange(single: $0), .udp) }
        let state = both(plain, multicast)
        if state.0 {
            for (id, key, spec) in [("multicast-rtp", "multicastRTPPort", specs[0]), ("multicast-rtcp", "multicastRTCPPort", specs[1])] {
                listeners.append(
                    ConfigListener(
                        id: id, purpose: "RTSP UDP-multicast \(id == "multicast-rtp" ? "RTP" : "RTCP") (\(key))", ports: [spec],
                        service: .rtp,
                        direction: .both, citation: citation(key, default: spec.range.description)))
            }
        } else {
            closed.append(ConfigClosed(id: "multicast", ports: specs, reason: state.1, citation: state.2))
        }
    }

    /// A list of words (`[udp, tcp]`), each one of `allowed`; nil when the key is absent.
    func list(_ key: String, allowed: [String]) throws(ConfigError) -> [String]? {
        guard let node = values[key] else { return nil }
        guard case .sequence(let items) = node else {
            throw ConfigError(file: path, line: line(key), message: "\(key): expected a list such as [\(allowed.joined(separator: ", "))]")
        }
        var result: [String] = []
        for item in items {
            let word = item.scalar?.string.lowercased() ?? ""
            guard allowed.contains(word) else {
                throw ConfigError(
                    file: path, line: item.mark?.line ?? line(key),
                    message: "\(key): '\(Shown.value(word))' is not a transport; expected \(allowed.joined(separator: ", "))")
            }
            result.append(word)
        }
        return result
    }

    /// The names under `paths:`, without `all`, `all_others` and regular expressions (`~...`).
    func streamPaths() throws(ConfigError) -> [Service: [String]] {
        guard let node = values["paths"] else { return [:] }
        guard case .mapping(let mapping) = node else {
            if case .scalar(let scalar) = node, scalar.isPlain, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
                return [:]
            }
            throw ConfigError(
                file: path, line: line("paths"), message: "paths: expected a mapping of path names, e.g. 'cam1: {source: publisher}'")
        }
        let names = mapping.compactMap { $0.key.scalar?.string }.filter { !$0.hasPrefix("~") && $0 != "all" && $0 != "all_others" }
        return names.isEmpty ? [:] : [.rtsp: names, .rtmp: names]
    }
}
