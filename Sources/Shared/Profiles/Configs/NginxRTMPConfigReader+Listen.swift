import PortModel

/// The nginx module whose `listen` a directive is: each takes its own parameters.
enum NginxListenModule: String, Sendable {
    case rtmp
    case http
    case stream
    case mail

    /// Parameters without a value, as the module's listen handler accepts them.
    var flags: Set<String> {
        switch self {
        case .rtmp: return ["bind", "proxy_protocol"]
        case .http:
            return [
                "default_server", "default", "ssl", "http2", "spdy", "quic", "http3", "proxy_protocol", "deferred", "bind", "reuseport",
            ]
        case .stream: return ["default_server", "ssl", "udp", "proxy_protocol", "deferred", "bind", "reuseport"]
        case .mail: return ["ssl", "proxy_protocol", "bind"]
        }
    }

    /// Parameters written `name=value`.
    var keyed: Set<String> {
        switch self {
        case .rtmp: return ["ipv6only", "so_keepalive"]
        case .http, .stream: return ["setfib", "fastopen", "backlog", "rcvbuf", "sndbuf", "accept_filter", "ipv6only", "so_keepalive"]
        case .mail: return ["backlog", "rcvbuf", "sndbuf", "ipv6only", "so_keepalive"]
        }
    }

    /// A valid listen value, for messages.
    var example: String {
        switch self {
        case .rtmp: return "1935"
        case .http: return "8080"
        case .stream: return "12345"
        case .mail: return "25"
        }
    }

    var parameterList: String {
        (flags.sorted() + keyed.sorted().map { $0 == "ipv6only" ? "ipv6only=on|off" : "\($0)=..." }).joined(separator: ", ")
    }
}

/// One `listen` of an nginx configuration, as the firewall sees it.
struct NginxListen: Sendable, Hashable {
    let bind: BindAddress
    let range: PortRange
    let transport: Transport
    /// `ssl` (TLS over TCP) or `quic` (HTTP/3 over UDP).
    let tls: Bool
    /// True when the port is nginx's default (http: a listen with an address only).
    let defaultPort: Bool

    var spec: PortSpec { PortSpec(range, transport) }
}

extension NginxRTMPConfigReader {
    /// Parses `listen ADDRESS[:PORT] [PARAMETERS]` as `module` accepts it; nil for `unix:PATH`,
    /// which is no port. nginx refuses unknown parameters, and so does this.
    static func listen(_ directive: NginxDirective, module: NginxListenModule) throws(ConfigError) -> NginxListen? {
        let written = directive.text.dropLast()
        func fail(_ why: String) -> ConfigError {
            ConfigError(file: directive.file, line: directive.line, message: "\(written): \(why)")
        }
        guard let value = directive.args.first else {
            throw fail("no address; expected listen [ADDRESS:]PORT [PARAMETERS]; e.g. listen \(module.example);")
        }
        var udp = false
        var tls = false
        for (offset, parameter) in directive.args.dropFirst().enumerated() {
            let name = parameter.split(separator: "=", maxSplits: 1).first.map(String.init) ?? parameter
            let hasValue = parameter.contains("=")
            let known = hasValue ? module.keyed.contains(name) : module.flags.contains(name)
            guard known else {
                let line = directive.argLines[offset + 1]
                if line != directive.line {
                    throw fail(
                        "expected ';' at the end of line \(directive.line): '\(Shown.value(parameter))' on line \(line) "
                            + "is not a listen parameter")
                }
                throw fail("unknown parameter '\(Shown.value(parameter))'; expected \(module.parameterList)")
            }
            if name == "ipv6only", !["on", "off"].contains(parameter.dropFirst(9)) {
                throw fail("'\(Shown.value(parameter))': expected ipv6only=on or ipv6only=off")
            }
            if name == "udp" || name == "quic" || name == "http3" { udp = true }
            if name == "ssl" || name == "quic" || name == "http3" { tls = true }
        }
        if value.hasPrefix("unix:") { return nil }
        let example = module == .http ? "[::]:8080" : module.example
        if module == .stream, let range = try streamRange(directive, value) {
            return NginxListen(bind: range.bind, range: range.range, transport: udp ? .udp : .tcp, tls: tls, defaultPort: false)
        }
        let address: ListenAddress
        do throws(ListenAddressError) {
            address = try ListenAddress.parse(value, what: "listen", example: example)
        } catch {
            throw ConfigError(file: directive.file, line: directive.line, message: error.message)
        }
        if let port = address.port {
            return NginxListen(
                bind: address.bind, range: PortRange(single: port), transport: udp ? .udp : .tcp, tls: tls, defaultPort: false)
        }
        guard module == .http else {
            throw fail(
                "'\(Shown.value(value))' has no port; expected [ADDRESS:]PORT, e.g. \(module.example) or 127.0.0.1:\(module.example)")
        }
        let http = try! PortNumber(80)
        return NginxListen(bind: address.bind, range: PortRange(single: http), transport: udp ? .udp : .tcp, tls: tls, defaultPort: true)
    }

    /// stream's `[ADDRESS:]LOW-HIGH` (nginx 1.15.10 and later); nil when the value is no range.
    private static func streamRange(_ directive: NginxDirective, _ value: String) throws(ConfigError) -> (
        bind: BindAddress, range: PortRange
    )? {
        guard let dash = value.lastIndex(of: "-") else { return nil }
        let high = value[value.index(after: dash)...]
        let low = value[..<dash]
        guard !high.isEmpty, high.allSatisfy({ $0.isASCII && $0.isNumber }), low.last?.isASCII == true, low.last?.isNumber == true else {
            return nil
        }
        let start: ListenAddress
        do throws(ListenAddressError) {
            start = try ListenAddress.parse(String(low), what: "listen", example: "12345-12399")
        } catch {
            throw ConfigError(file: directive.file, line: directive.line, message: error.message)
        }
        guard let lowPort = start.port else { return nil }
        do throws(ModelError) {
            return (start.bind, try PortRange(lowPort, try PortNumber(parsing: String(high))))
        } catch {
            throw ConfigError(
                file: directive.file, line: directive.line,
                message: "\(directive.text.dropLast()): \(error.description); expected [ADDRESS:]LOW-HIGH, e.g. 12345-12399")
        }
    }
}
