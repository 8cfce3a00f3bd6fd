import FoundationEssentials
import PortModel
import PortPlanning

/// A port a server enabled at boot will listen on, read from its configuration.
public struct BootClaim: Sendable, Hashable, CustomStringConvertible {
    public let unit: String
    public let server: String
    public let port: Int
    public let transport: Transport
    /// `path:line` of the directive, relative to the root that was read.
    public let origin: String

    public var description: String { "claimed at boot by \(unit) (\(origin))" }
}

/// Finds web servers enabled at boot (systemd `*.wants` links) and the ports their configuration names.
///
/// Reads under `root` (`/` on a live system), so tests can use fixture trees. Knows Apache
/// (`Listen`), nginx (`listen`), lighttpd (`server.port`, `$SERVER["socket"]`), Caddy (site
/// addresses), HAProxy (`bind`) and Traefik (`address:`), following their include directives.
public struct BootClaims: Sendable {
    public let root: String
    public private(set) var claims: [BootClaim] = []
    /// Units found enabled, whether or not a port was read from them.
    public private(set) var enabledUnits: [String] = []

    static let units: [(unit: String, server: String)] = [
        ("apache2.service", "Apache httpd"), ("httpd.service", "Apache httpd"), ("nginx.service", "nginx"),
        ("lighttpd.service", "lighttpd"), ("caddy.service", "Caddy"), ("haproxy.service", "HAProxy"),
        ("traefik.service", "Traefik"), ("varnish.service", "Varnish"), ("envoy.service", "Envoy"),
    ]

    public init(root: String = "/") {
        self.root = root
        // /etc holds what the admin enabled; /run what was enabled for this boot only (`enable --runtime`).
        let wantsDirectories = ["etc/systemd/system", "run/systemd/system", "lib/systemd/system", "usr/lib/systemd/system"]
        var enabled = Set<String>()
        for directory in wantsDirectories {
            let base = path(directory)
            // The distribution's own folders hold hundreds of units: only multi-user.target.wants
            // counts there, so it is the only folder read.
            let admins = directory.hasPrefix("etc/") || directory.hasPrefix("run/")
            let entries = admins ? ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []) : ["multi-user.target.wants"]
            for entry in entries where entry.hasSuffix(".wants") {
                let links = (try? FileManager.default.contentsOfDirectory(atPath: base + "/" + entry)) ?? []
                for link in links where Self.units.contains(where: { $0.unit == link }) { enabled.insert(link) }
            }
        }
        enabledUnits = enabled.sorted()
        for unit in enabledUnits {
            let server = Self.units.first { $0.unit == unit }!.server
            for (port, origin) in ports(of: unit) {
                claims.append(BootClaim(unit: unit, server: server, port: port, transport: .tcp, origin: origin))
            }
        }
    }

    func path(_ relative: String) -> String {
        Path.join(root, String(relative.drop { $0 == "/" }))
    }

    func shown(_ absolute: String) -> String {
        guard root != "/" else { return absolute }
        let prefix = root.hasSuffix("/") ? String(root.dropLast()) : root
        return absolute.hasPrefix(prefix) ? String(absolute.dropFirst(prefix.count)) : absolute
    }

    func ports(of unit: String) -> [(Int, String)] {
        switch unit {
        case "apache2.service": return apache(["/etc/apache2/apache2.conf"], serverRoot: "/etc/apache2")
        case "httpd.service": return apache(["/etc/httpd/conf/httpd.conf"], serverRoot: "/etc/httpd")
        case "nginx.service": return nginx("/etc/nginx/nginx.conf")
        case "lighttpd.service": return lighttpd("/etc/lighttpd/lighttpd.conf")
        case "caddy.service": return caddy("/etc/caddy/Caddyfile")
        case "haproxy.service":
            return scan(["/etc/haproxy/haproxy.cfg"]) { words in
                words.first == "bind" && words.count > 1 ? Self.port(afterColonIn: words[1]) : nil
            }
        case "traefik.service":
            return scan(["/etc/traefik/traefik.yml", "/etc/traefik/traefik.yaml"]) { words in
                words.first == "address:" && words.count > 1
                    ? Self.port(afterColonIn: words[1].trimming { $0 == "\"" || $0 == "'" }) : nil
            }
        default: return []
        }
    }

    // MARK: - Servers

    func apache(_ files: [String], serverRoot: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var visited = Set<String>()
        func visit(_ file: String, depth: Int) {
            guard depth < 8, visited.insert(file).inserted else { return }
            forEachLine(file) { words, origin in
                guard let keyword = words.first?.lowercased() else { return }
                if keyword == "listen", words.count > 1, let port = Self.port(afterColonIn: words[1]) {
                    result.append((port, origin))
                } else if keyword == "include" || keyword == "includeoptional", words.count > 1 {
                    let pattern = words[1].hasPrefix("/") ? words[1] : serverRoot + "/" + words[1]
                    for match in glob(pattern) { visit(match, depth: depth + 1) }
                }
            }
        }
        for file in files { visit(file, depth: 0) }
        return result
    }

    func nginx(_ file: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var visited = Set<String>()
        func visit(_ file: String, depth: Int) {
            guard depth < 8, visited.insert(file).inserted else { return }
            forEachLine(file) { words, origin in
                let cleaned = words.map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }
                if cleaned.first == "listen", cleaned.count > 1, !cleaned[1].hasPrefix("unix:") {
                    if let port = Self.port(afterColonIn: cleaned[1]) { result.append((port, origin)) }
                } else if cleaned.first == "include", cleaned.count > 1 {
                    let pattern = cleaned[1].hasPrefix("/") ? cleaned[1] : "/etc/nginx/" + cleaned[1]
                    for match in glob(pattern) { visit(match, depth: depth + 1) }
                }
            }
        }
        visit(file, depth: 0)
        return result
    }

    func lighttpd(_ file: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var visited = Set<String>()
        func visit(_ file: String, depth: Int) {
            guard depth < 8, visited.insert(file).inserted else { return }
            forEachLine(file) { words, origin in
                let line = words.joined(separator: " ")
                if words.first == "server.port", let value = words.last, let port = Int(value) {
                    result.append((port, origin))
                } else if line.hasPrefix("$SERVER[\"socket\"]"), let quoted = line.split(separator: "\"").dropFirst(3).first,
                    let port = Self.port(afterColonIn: String(quoted))
                {
                    result.append((port, origin))
                } else if words.first == "include" || words.first == "include_shell", words.count > 1, words.first == "include" {
                    let name = words[1].trimming { $0 == "\"" }
                    let pattern = name.hasPrefix("/") ? name : "/etc/lighttpd/" + name
                    for match in glob(pattern) { visit(match, depth: depth + 1) }
                }
            }
        }
        visit(file, depth: 0)
        if result.isEmpty, FileManager.default.fileExists(atPath: path(file)) { result.append((80, shown(path(file)) + ":1")) }
        return result
    }

    /// Caddy site addresses: `:8080`, `http://host`, `https://host:8443`, or a bare host name, which
    /// Caddy serves on 443 with a redirect on 80.
    func caddy(_ file: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var depth = 0
        forEachLine(file, keepIndent: true) { words, origin in
            let line = words.joined(separator: " ")
            if depth == 0, line.hasSuffix("{"), line != "{", !line.hasPrefix("(") {
                for address in line.dropLast().split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) {
                    result += Self.caddyPorts(address).map { ($0, origin) }
                }
            }
            depth += line.filter { $0 == "{" }.count - line.filter { $0 == "}" }.count
        }
        return result
    }

    package static func caddyPorts(_ address: String) -> [Int] {
        var rest = address
        var scheme: String?
        if let range = rest.firstRange(of: "://") {
            scheme = String(rest[..<range.lowerBound])
            rest = String(rest[range.upperBound...])
        }
        if let slash = rest.firstIndex(of: "/") { rest = String(rest[..<slash]) }
        if let port = port(afterColonIn: rest), rest.contains(":") { return [port] }
        switch scheme {
        case "http": return [80]
        case "https": return [443]
        default: return rest.isEmpty ? [] : [80, 443]
        }
    }

    // MARK: - Helpers

    /// `80`, `0.0.0.0:80`, `[::]:80`, `*:80`, `127.0.0.1:8080` -> the port.
    static func port(afterColonIn text: String) -> Int? {
        let candidate = text.split(separator: ":").last.map(String.init) ?? text
        let digits = candidate.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.count == candidate.count || text.contains(":"), let port = Int(digits), (1...65535).contains(port)
        else { return nil }
        return port
    }

    func scan(_ files: [String], _ extract: ([String]) -> Int?) -> [(Int, String)] {
        var result: [(Int, String)] = []
        for file in files {
            forEachLine(file) { words, origin in
                if let port = extract(words) { result.append((port, origin)) }
            }
        }
        return result
    }

    /// Calls `body` with each non-comment line's words and its `path:line`.
    func forEachLine(_ file: String, keepIndent: Bool = false, _ body: ([String], String) -> Void) {
        let full = file.hasPrefix(root) && root != "/" ? file : path(file)
        guard let data = FileManager.default.contents(atPath: full) else { return }
        for (index, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard !words.isEmpty else { continue }
            body(words, "\(shown(full)):\(index + 1)")
        }
    }

    func glob(_ pattern: String) -> [String] {
        SSHFacts.glob(path(pattern))
    }
}
