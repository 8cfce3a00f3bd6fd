import PortModel

/// Reads MediaMTX's `mediamtx.yml`: every listen address, each protocol's switch, the RTSP
/// transports and encryption, and the api, metrics, pprof and playback servers.
///
/// Defaults are those of MediaMTX's shipped mediamtx.yml (profiles/mediamtx.yaml cites them); the
/// older spellings (`protocols`, `encryption`, `rtspDisable`, `rtmpDisable`, ...) are read too.
public enum MediaMTXConfigReader {
    public static func read(path: String, files: some ConfigFileSystem) throws(ConfigError) -> ServerConfig {
        let text = try files.read(path)
        let root: Node?
        do throws(YAMLComposer.Failure) { root = try YAMLComposer.compose(text) } catch {
            throw ConfigError(file: path, line: error.mark?.line ?? 0, message: error.message)
        }
        // By newline Character, as libyaml counts lines: "\r\n" is one Character.
        var reader = Reader(path: path, lines: text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline))
        if let root {
            guard case .mapping(let mapping) = root else {
                throw ConfigError(
                    file: path, line: root.mark?.line ?? 1, message: "expected a mapping of settings such as 'rtspAddress: :8554'")
            }
            for (key, value) in mapping {
                guard let name = key.scalar?.string else { continue }
                reader.values[name] = value
                reader.keyLines[name] = key.mark?.line
            }
        }
        return try reader.config()
    }

    struct Reader {
        let path: String
        let lines: [Substring]
        var values: [String: Node] = [:]
        /// Where each key is written: citations and errors name the key's line, not its value's.
        var keyLines: [String: Int] = [:]
        var listeners: [ConfigListener] = []
        var closed: [ConfigClosed] = []

        init(path: String, lines: [Substring]) {
            self.path = path
            self.lines = lines
        }

        func citation(_ key: String, default fallback: String) -> Citation {
            guard let line = keyLines[key], line >= 1, line <= lines.count else {
                return Citation(file: path, line: 0, text: "\(key) absent: default \(fallback)")
            }
            return Citation(file: path, line: line, text: Citation.directive(lines[line - 1], comment: "#"))
        }

        func line(_ key: String) -> Int { keyLines[key] ?? values[key]?.mark?.line ?? 0 }

        func scalar(_ key: String) throws(ConfigError) -> String? {
            guard let node = values[key] else { return nil }
            guard let scalar = node.scalar else {
                throw ConfigError(file: path, line: line(key), message: "\(key): expected a single value, not a list or mapping")
            }
            return scalar.string
        }

        /// yes/no, true/false; absent → `fallback`.
        func flag(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
            guard let value = try scalar(key) else { return fallback }
            switch value.lowercased() {
            case "yes", "true", "on": return true
            case "no", "false", "off": return false
            default:
                throw ConfigError(file: path, line: line(key), message: "\(key) '\(Shown.value(value))': expected yes or no")
            }
        }

        func choice(_ key: String, _ allowed: [String], default fallback: String) throws(ConfigError) -> String {
            guard let value = try scalar(key) else { return fallback }
            let lowered = value.lowercased()
            guard allowed.contains(lowered) else {
                throw ConfigError(
                    file: path, line: line(key),
                    message: "\(key) '\(Shown.value(value))': expected one of \(allowed.joined(separator: ", "))")
            }
            return lowered
        }

        /// An address setting: `:8554`, `0.0.0.0:8554`, `[::1]:8554`. Empty means "off" when `emptyIsOff`.
        func address(_ key: String, default fallback: String) throws(ConfigError) -> ListenAddress? {
            let text = try scalar(key) ?? fallback
            if text.isEmpty { return nil }
            let parsed: ListenAddress
            do throws(ListenAddressError) { parsed = try ListenAddress.parse(text, what: key, example: fallback) } catch {
                throw ConfigError(file: path, line: line(key), message: error.message)
            }
            guard parsed.port != nil else {
                throw ConfigError(
                    file: path, line: line(key),
                    message: "\(key) '\(Shown.value(text))' has no port; expected [HOST]:PORT, e.g. \(fallback)")
            }
            return parsed
        }

        func port(_ key: String, default fallback: Int) throws(ConfigError) -> PortNumber {
            guard let text = try scalar(key) else { return try! PortNumber(fallback) }
            do throws(ModelError) { return try PortNumber(parsing: text) } catch {
                throw ConfigError(file: path, line: line(key), message: "\(key): \(error.description); expected a port such as \(fallback)")
            }
        }

        /// Adds a listener for `key`, or records it closed with `reason` when `enabled` is false.
        mutating func listen(
            _ id: String, _ key: String, default fallback: String, transport: Transport, service: Service, purpose: String,
            direction: Direction = .in, from: SourceRef = .world, enabled: (Bool, String, Citation)? = nil
        ) throws(ConfigError) {
            let address = try address(key, default: fallback)
            let cite = citation(key, default: fallback)
            guard let address, let port = address.port else {
                closed.append(ConfigClosed(id: id, ports: [], reason: "\(key) is empty", citation: cite))
                return
            }
            let spec = PortSpec(PortRange(single: port), transport)
            if let (on, reason, why) = enabled, !on {
                closed.append(ConfigClosed(id: id, ports: [spec], reason: reason, citation: why))
                return
            }
            listeners.append(
                ConfigListener(
                    id: id, purpose: purpose, ports: [spec], service: service, direction: direction, from: from, bind: address.bind,
                    citation: cite, conflicts: ConfigListener.webServerConflict([port])))
        }

        /// A protocol's switch: `rtmp: no`, or the older `rtmpDisable: yes`.
        func enabled(_ name: String) throws(ConfigError) -> (Bool, String, Citation) {
            if values[name] != nil {
                return (try flag(name, default: true), "disabled", citation(name, default: "yes"))
            }
            let old = "\(name)Disable"
            if values[old] != nil {
                return (!(try flag(old, default: false)), "disabled", citation(old, default: "no"))
            }
            return (true, "", citation(name, default: "yes"))
        }

        func optionalServer(_ name: String) throws(ConfigError) -> (Bool, String, Citation) {
            (try flag(name, default: false), "disabled", citation(name, default: "no"))
        }

        mutating func config() throws(ConfigError) -> ServerConfig {
            try rtsp()
            let rtmp = try enabled("rtmp")
            let rtmpEncryption = try choice("rtmpEncryption", ["no", "optional", "strict"], default: "no")
            let rtmpCite = citation("rtmpEncryption", default: "no")
            try listen(
                "rtmp", "rtmpAddress", default: ":1935", transport: .tcp, service: .rtmp,
                purpose: "RTMP publishing and reading (rtmpAddress)",
                enabled: !rtmp.0 ? rtmp : (rtmpEncryption != "strict", "rtmpEncryption is strict", rtmpCite))
            try listen(
                "rtmps", "rtmpsAddress", default: ":1936", transport: .tcp, service: .rtmps,
                purpose: "RTMPS publishing and reading (rtmpsAddress)",
                enabled: !rtmp.0 ? rtmp : (rtmpEncryption != "no", "rtmpEncryption is no", rtmpCite))
            let hlsTLS = try flag("hlsEncryption", default: false)
            try listen(
                "hls", "hlsAddress", default: ":8888", transport: .tcp, service: hlsTLS ? .https : .http,
                purpose: "HLS and LL-HLS playback over HTTP\(hlsTLS ? "S" : "") (hlsAddress)", enabled: try enabled("hls"))
            let webrtc = try enabled("webrtc")
            try listen(
                "webrtc-http", "webrtcAddress", default: ":8889", transport: .tcp, service: .webrtc,
                purpose: "WebRTC WHIP/WHEP signalling over HTTP (webrtcAddress)", enabled: webrtc)
            try listen(
                "webrtc-ice", "webrtcLocalUDPAddress", default: ":8189", transport: .udp, service: .webrtc,
                purpose: "WebRTC ICE/DTLS/SRTP media (webrtcLocalUDPAddress)", direction: .both, enabled: webrtc)
            if let tcp = try scalar("webrtcLocalTCPAddress"), !tcp.isEmpty {
                try listen(
                    "webrtc-ice-tcp", "webrtcLocalTCPAddress", default: ":8189", transport: .tcp, service: .webrtc,
                    purpose: "WebRTC ICE over TCP (webrtcLocalTCPAddress)", enabled: webrtc)
            }
            try listen(
                "srt", "srtAddress", default: ":8890", transport: .udp, service: .srt, purpose: "SRT publishing and reading (srtAddress)",
                enabled: try enabled("srt"))
            try listen(
                "api", "apiAddress", default: ":9997", transport: .tcp, service: .admin, purpose: "Control API (apiAddress)", from: .admins,
                enabled: try optionalServer("api"))
            try listen(
                "metrics", "metricsAddress", default: ":9998", transport: .tcp, service: .http,
                purpose: "Prometheus metrics (metricsAddress)",
                from: .admins, enabled: try optionalServer("metrics"))
            try listen(
                "pprof", "pprofAddress", default: ":9999", transport: .tcp, service: .http,
                purpose: "pprof profiling endpoint (pprofAddress)",
                from: .admins, enabled: try optionalServer("pprof"))
            try listen(
                "playback", "playbackAddress", default: ":9996", transport: .tcp, service: .http,
                purpose: "Playback server for recorded segments (playbackAddress)", enabled: try optionalServer("playback"))
            return ServerConfig(
                kind: .mediamtx, path: path, files: [path], listeners: listeners, closed: closed,
                streamPaths: try streamPaths())
        }
    }
}
