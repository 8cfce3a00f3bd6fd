import PortModel
import PortPlanning

/// What kind of program holds a port, judged from its name, executable and command line.
public enum ServerKind: Sendable, Hashable, CustomStringConvertible {
    case webServer(String)
    case streamingServer(String)
    case other

    public var description: String {
        switch self {
        case .webServer(let name): return "web server \(name)"
        case .streamingServer(let name): return "streaming server \(name)"
        case .other: return "other"
        }
    }

    public var isWebServer: Bool {
        if case .webServer = self { return true }
        return false
    }

    static let webServers: [String: String] = [
        "apache2": "Apache httpd", "httpd": "Apache httpd", "nginx": "nginx", "lighttpd": "lighttpd",
        "caddy": "Caddy", "traefik": "Traefik", "haproxy": "HAProxy", "varnishd": "Varnish", "varnish": "Varnish",
        "envoy": "Envoy", "gunicorn": "Gunicorn", "uwsgi": "uWSGI", "uvicorn": "Uvicorn", "hypercorn": "Hypercorn",
        "node": "Node.js", "nodejs": "Node.js", "deno": "Deno", "bun": "Bun", "busybox-httpd": "BusyBox httpd",
        "mini_httpd": "mini_httpd", "thttpd": "thttpd", "h2o": "H2O", "openresty": "OpenResty", "tomcat": "Tomcat",
    ]

    static let streamingServers: [String: String] = [
        "darwinstreamingserver": "dss", "darwinstreamingsrvr": "dss", "quicktimestreamingserver": "dss",
        "mediamtx": "mediamtx", "rtsp-simple-server": "mediamtx", "icecast": "icecast", "icecast2": "icecast",
        "sc_serv": "shoutcast", "streamd": "streamd", "wowzastreamingengine": "wowza", "red5": "red5", "srs": "srs",
    ]

    /// Classifies a process; `port` disambiguates nginx, which is a streaming server on RTMP's port.
    public static func classify(name: String, executable: String?, commandLine: [String], port: Int) -> ServerKind {
        let base = (executable.map { String($0.split(separator: "/").last ?? "") } ?? name).lowercased()
        let candidates = [name.lowercased(), base]
        let joined = commandLine.joined(separator: " ").lowercased()
        for candidate in candidates {
            if let kind = streamingServers[candidate] { return .streamingServer(kind) }
        }
        if joined.contains("wowza") { return .streamingServer("wowza") }
        if candidates.contains("nginx"), port == 1935 || joined.contains("rtmp") { return .streamingServer("nginx-rtmp") }
        for candidate in candidates {
            if let kind = webServers[candidate] { return .webServer(kind) }
        }
        // Generic HTTP servers started from an interpreter.
        if candidates.contains(where: { $0.hasPrefix("python") }), joined.contains("http.server") || joined.contains("simplehttpserver") {
            return .webServer("python http.server")
        }
        if candidates.contains(where: { $0.hasPrefix("php") }), commandLine.contains("-S") { return .webServer("php -S") }
        if candidates.contains(where: { $0.hasPrefix("ruby") }), joined.contains("httpd") || joined.contains("webrick") {
            return .webServer("ruby httpd")
        }
        if candidates.contains("busybox"), joined.contains("httpd") { return .webServer("BusyBox httpd") }
        if candidates.contains("java"), joined.contains("catalina") || joined.contains("jetty") {
            return .webServer("Java servlet container")
        }
        return .other
    }

    /// The streaming servers a set of profiles is for: a server of that kind on a planned port is expected.
    public static func expectedStreamingKinds(for profiles: [String]) -> Set<String>? {
        let specific: [String: String] = [
            "dss": "dss", "mediamtx": "mediamtx", "nginx-rtmp": "nginx-rtmp", "icecast2": "icecast", "shoutcast": "shoutcast",
            "wowza": "wowza",
        ]
        var kinds = Set<String>()
        for profile in profiles {
            guard let kind = specific[profile] else { return nil }  // a protocol profile: any streaming server fits
            kinds.insert(kind)
        }
        kinds.insert("streamd")  // portctl's own test server answers for every profile
        if kinds.contains("icecast") || kinds.contains("shoutcast") { kinds.formUnion(["icecast", "shoutcast"]) }
        return kinds
    }
}
