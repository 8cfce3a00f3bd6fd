import FoundationEssentials
import KnockAuth
import PlanRendering
import PortModel
import PortPlanning
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// The TCP checks: a connect, then the port's own protocol (the UDP knock is `KnockLoop`'s).
enum ProbeCheck {
    static func run(
        _ target: ProbeTarget, host: String, timeout: Double, source: String?, tls: TLSCheck? = nil, paths: ProbePaths = ProbePaths()
    ) -> ProbeResult {
        let started = Date()
        var (verdict, detail) = tcp(target, host: host, timeout: timeout, source: source, paths: paths)
        // The port is open: for RTMPS and HTTPS, prove the TLS session and what speaks inside it.
        if verdict == .ok, target.service == .rtmps || target.service == .https, let tls {
            (verdict, detail) = tls(host, target.port, target.service, timeout)
        }
        return ProbeResult(target: target, verdict: verdict, detail: detail, seconds: Date().timeIntervalSince(started))
    }

    static func tcp(
        _ target: ProbeTarget, host: String, timeout: Double, source: String?, paths: ProbePaths = ProbePaths()
    ) -> (
        ProbeResult.Verdict, String
    ) {
        let addresses = ProbeSocket.resolve(host, port: target.port, transport: .tcp)
        guard let address = addresses.first else { return (.error, "cannot resolve \(host)") }
        switch ProbeSocket.connect(address, timeout: timeout, source: source) {
        case .refused: return (.closed, "connection refused")
        case .reset: return (.openWrongProtocol, NoAnswer.reset.detail(timeout: timeout))
        case .timedOut: return (.filtered, "no answer to the connection within \(format(timeout))s")
        case .failed(let reason): return (.error, reason)
        case .connected(let socket):
            defer { socket.close() }
            return speak(
                target.service, socket: socket, host: host, port: target.port, timeout: timeout, paths: paths)
        }
    }

    /// What came back to a request: a reply, or how the connection went without one.
    enum Answer: Equatable {
        case text(String)
        case none(NoAnswer)
    }

    /// No reply: silence for the timeout, a close (FIN) or a reset (RST). Each is an answer of
    /// its own: an open port whose server hangs up is not a silent one.
    enum NoAnswer: Equatable {
        case silent
        case closed
        case reset

        func detail(timeout: Double) -> String {
            switch self {
            case .silent: return "open, but nothing answered within \(ProbeCheck.format(timeout))s"
            case .closed: return "open, but closed without answering"
            case .reset: return "open, but the connection was reset before any answer"
            }
        }
    }

    /// The port's own protocol. Each request is what a real client of that protocol sends first.
    static func speak(
        _ service: Service, socket: ProbeSocket, host: String, port: Int, timeout: Double, paths: ProbePaths = ProbePaths()
    ) -> (
        ProbeResult.Verdict, String
    ) {
        func exchange(_ request: [UInt8], limit: Int = 16384, complete: ([UInt8]) -> Bool) -> (Answer, [UInt8]) {
            if let code = socket.write(request) { return (.none(code == ECONNRESET || code == EPIPE ? .reset : .silent), []) }
            let (reply, ending) = socket.read(timeout: timeout, limit: limit, complete: complete)
            if !reply.isEmpty { return (.text(String(decoding: reply, as: UTF8.self)), reply) }
            switch ending {
            case .reset: return (.none(.reset), [])
            case .closed: return (.none(.closed), [])
            case .complete, .timedOut: return (.none(.silent), [])
            }
        }
        func ask(_ request: String) -> Answer { exchange(Array(request.utf8)) { $0.count > 4 && headEnds($0) }.0 }
        func firstLine(_ text: String) -> String {
            // "\r\n" is a single Character: split on any newline.
            String((text.split(whereSeparator: \.isNewline).first ?? "").prefix(80))
        }
        func silent(_ answer: Answer) -> (ProbeResult.Verdict, String) {
            guard case .none(let nothing) = answer else { return (.openWrongProtocol, "open, but the reply could not be read") }
            return (.openWrongProtocol, nothing.detail(timeout: timeout))
        }
        switch service {
        case .rtsp:
            let options = ask("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: portctl-probe\r\n\r\n")
            guard case .text(let reply) = options else { return silent(options) }
            guard reply.hasPrefix("RTSP/1.0 ") else { return (.openWrongProtocol, "expected RTSP, got \(describe(reply))") }
            guard let rtspPath = paths.rtsp else { return (.ok, firstLine(reply)) }
            // DESCRIBE the path: a server that plays it answers 200 with an SDP.
            let path = rtspPath.hasPrefix("/") ? rtspPath : "/" + rtspPath
            let hostPart = host.contains(":") ? "[\(host)]" : host
            let describeAnswer = ask(
                "DESCRIBE rtsp://\(hostPart):\(port)\(path) RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nUser-Agent: portctl-probe\r\n\r\n"
            )
            guard case .text(let described) = describeAnswer else {
                switch describeAnswer {
                case .none(.reset): return (.openWrongProtocol, "RTSP answers OPTIONS, but the connection was reset at DESCRIBE \(path)")
                case .none(.closed): return (.openWrongProtocol, "RTSP answers OPTIONS, but the connection closed at DESCRIBE \(path)")
                default: return (.openWrongProtocol, "RTSP answers OPTIONS, but nothing answered DESCRIBE \(path)")
                }
            }
            if described.hasPrefix("RTSP/1.0 200"), described.lowercased().contains("application/sdp") {
                return (.ok, "\(firstLine(reply)); DESCRIBE \(path): SDP")
            }
            // A path from the server's configuration may have nobody publishing yet: any RTSP answer will do.
            if !paths.rtspMustPlay, described.hasPrefix("RTSP/1.0 ") {
                return (.ok, "\(firstLine(reply)); DESCRIBE \(path): \(firstLine(described))")
            }
            return (.openWrongProtocol, "RTSP answers OPTIONS, but DESCRIBE \(path) got \(firstLine(described))")
        case .rtspHTTP:
            let request =
                "GET / HTTP/1.0\r\nx-sessioncookie: portctlprobe\r\nAccept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n"
            let answer = ask(request)
            guard case .text(let reply) = answer else { return silent(answer) }
            if reply.hasPrefix("HTTP/1."), reply.lowercased().contains("application/x-rtsp-tunnelled") {
                return (.ok, "RTSP-over-HTTP tunnel: \(firstLine(reply))")
            }
            if reply.hasPrefix("HTTP/1.") { return (.openWrongProtocol, "an HTTP server without the RTSP tunnel: \(firstLine(reply))") }
            return (.openWrongProtocol, "expected the RTSP-over-HTTP tunnel, got \(describe(reply))")
        case .https, .rtmps:
            // The TLS session and what speaks inside it are the TLSCheck's job (ProbeCheck.run).
            return (.ok, "open")
        case .http, .admin, .rtmpt:
            let answer = ask("GET / HTTP/1.0\r\nHost: \(host)\r\nUser-Agent: portctl-probe\r\n\r\n")
            guard case .text(let reply) = answer else { return silent(answer) }
            if reply.hasPrefix("HTTP/1.") { return (.ok, firstLine(reply)) }
            return (.openWrongProtocol, "expected HTTP, got \(describe(reply))")
        case .icy:
            // A mount the server's configuration names (--config), else the root.
            let mount = paths.icy.map { $0.hasPrefix("/") ? $0 : "/" + $0 } ?? "/"
            let answer = ask("GET \(mount) HTTP/1.0\r\nIcy-MetaData: 1\r\nUser-Agent: portctl-probe\r\n\r\n")
            guard case .text(let reply) = answer else { return silent(answer) }
            let headers = reply.lowercased().split(whereSeparator: \.isNewline)
            if reply.hasPrefix("ICY 200") || (reply.hasPrefix("HTTP/1.") && headers.contains { $0.hasPrefix("icy-") }) {
                return (.ok, "ICY: \(firstLine(reply))")
            }
            // Icecast and SHOUTcast name themselves on every answer, a mount without a source too.
            if reply.hasPrefix("HTTP/1."), headers.contains(where: { $0.hasPrefix("server: icecast") || $0.hasPrefix("server: shoutcast") })
            {
                return (.ok, "ICY server: \(firstLine(reply)) for GET \(mount)")
            }
            if reply.hasPrefix("HTTP/1.") { return (.openWrongProtocol, "an HTTP server without icy- headers: \(firstLine(reply))") }
            return (.openWrongProtocol, "expected ICY, got \(describe(reply))")
        case .mms:
            let answer = ask(
                "GET / HTTP/1.0\r\nUser-Agent: NSPlayer/4.1.0.3856\r\nPragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n\r\n")
            guard case .text(let reply) = answer else { return silent(answer) }
            let lower = reply.lowercased()
            if reply.hasPrefix("HTTP/1."),
                lower.contains("server: cougar") || lower.contains("application/vnd.ms.wms-hdr")
                    || lower.contains("application/x-mms-framed")
            {
                return (.ok, "MMS over HTTP: \(firstLine(reply))")
            }
            return (.openWrongProtocol, "expected MMS over HTTP, got \(describe(reply))")
        case .rtmp:
            let c1 = [UInt8](repeating: 0, count: 8) + RandomBytes.make(1528)
            let (answer, reply) = exchange([0x03] + c1, limit: 1 + 1536 + 1536) { $0.count >= 1 + 1536 }
            if reply.count >= 1537, reply[0] == 0x03 {
                return (.ok, "RTMP handshake: S0 version 3, S1 \(min(reply.count - 1, 1536)) bytes")
            }
            if reply.isEmpty { return silent(answer) }
            return (.openWrongProtocol, "expected an RTMP S0/S1, got \(describe(String(decoding: reply.prefix(200), as: UTF8.self)))")
        default:
            return (.ok, "open")
        }
    }

    static func headEnds(_ bytes: [UInt8]) -> Bool { HeadEnd.reply(in: bytes[...]) != nil }

    static func describe(_ text: String) -> String {
        if text.hasPrefix("HTTP/") { return "HTTP (\(String(text.prefix { !$0.isNewline }.prefix(60))))" }
        if text.hasPrefix("RTSP/") { return "RTSP (\(String(text.prefix { !$0.isNewline }.prefix(60))))" }
        if text.hasPrefix("SSH-") { return "SSH" }
        let printable = text.prefix(40).map {
            $0.isASCII && !$0.isNewline && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0 == " ") ? $0 : "."
        }
        return "'\(String(printable))'"
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : Decimals.fixed(seconds, places: 1)
    }
}

/// The stream names the protocol checks ask for.
public struct ProbePaths: Sendable, Hashable {
    /// DESCRIBEd on RTSP ports after OPTIONS.
    public var rtsp: String?
    /// True for --path: DESCRIBE must answer with an SDP. False for a path from --config, where
    /// nobody may be publishing yet: any RTSP answer proves the server.
    public var rtspMustPlay: Bool
    /// The mount an ICY check asks for (an Icecast `<mount-name>`); nil asks for `/`.
    public var icy: String?

    public init(rtsp: String? = nil, rtspMustPlay: Bool = true, icy: String? = nil) {
        self.rtsp = rtsp
        self.rtspMustPlay = rtspMustPlay
        self.icy = icy
    }

    /// A stream name from a server's configuration as a URL path: every byte but letters, digits,
    /// `-._~` and `/` percent-encoded, so no name can add a line or a space to a request.
    public static func percentEncoded(_ name: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for byte in name.utf8 {
            let plain =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || "-._~/".utf8.contains(byte)
            if plain {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
