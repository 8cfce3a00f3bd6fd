import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One port to probe: its transport and number, what should answer there, and who asked for it.
public struct ProbeTarget: Sendable, Hashable {
    public let transport: Transport
    public let port: Int
    public let service: Service
    public let labels: [String]
    /// The range this port was sampled from, for reports (`6970-6999/udp`).
    public let range: String
    /// Set for `--media` checks: a real RTSP session over this transport, not a port check.
    public var media: MediaTransport? = nil

    /// How reports name the check: `554/tcp`, or `554/tcp media/udp`.
    public var name: String { "\(port)/\(transport.rawValue)" + (media.map { " media/\($0.rawValue)" } ?? "") }
}

/// What a probe found on one port.
public struct ProbeResult: Sendable {
    public enum Verdict: String, Sendable {
        case ok
        case openWrongProtocol = "open-wrong-protocol"
        case closed
        case filtered
        case error
        /// --media: RTSP answered, but no RTP arrived (the half-open firewall).
        case mediaBlocked = "media-blocked"
        /// --media: RTP arrived, but clients failed or more than 5% of packets were lost.
        case mediaDegraded = "media-degraded"
    }

    public let target: ProbeTarget
    public let verdict: Verdict
    /// What answered, or why not: `RTSP/1.0 200 OK`, `open (streamd)`, `refused`, `no answer within 2s`.
    public let detail: String
    public let seconds: Double
    /// What a media check measured.
    public var media: MediaStats? = nil
}

/// The checks: a TCP connect, then the port's own protocol; for UDP, the signed knock.
enum ProbeCheck {
    static func run(
        _ target: ProbeTarget, host: String, timeout: Double, key: KnockKey?, source: String?, tls: TLSCheck? = nil, rtspPath: String? = nil
    ) -> ProbeResult {
        let started = Date()
        var (verdict, detail) = target.transport == .tcp
            ? tcp(target, host: host, timeout: timeout, source: source, rtspPath: rtspPath)
            : udp(target, host: host, timeout: timeout, key: key, source: source)
        // The port is open: for RTMPS and HTTPS, prove the TLS session and what speaks inside it.
        if verdict == .ok, target.service == .rtmps || target.service == .https, let tls {
            (verdict, detail) = tls(host, target.port, target.service, timeout)
        }
        return ProbeResult(target: target, verdict: verdict, detail: detail, seconds: Date().timeIntervalSince(started))
    }

    static func tcp(_ target: ProbeTarget, host: String, timeout: Double, source: String?, rtspPath: String? = nil) -> (ProbeResult.Verdict, String) {
        let addresses = ProbeSocket.resolve(host, port: target.port, transport: .tcp)
        guard let address = addresses.first else { return (.error, "cannot resolve \(host)") }
        switch ProbeSocket.connect(address, timeout: timeout, source: source) {
        case .refused: return (.closed, "connection refused")
        case .timedOut: return (.filtered, "no answer to the connection within \(format(timeout))s")
        case .failed(let reason): return (.error, reason)
        case .connected(let socket):
            defer { socket.close() }
            return speak(target.service, socket: socket, host: host, port: target.port, timeout: timeout, rtspPath: rtspPath)
        }
    }

    /// The port's own protocol. Each request is what a real client of that protocol sends first.
    static func speak(_ service: Service, socket: ProbeSocket, host: String, port: Int, timeout: Double, rtspPath: String? = nil) -> (ProbeResult.Verdict, String) {
        func ask(_ request: String) -> String? {
            guard socket.send(Array(request.utf8)) else { return nil }
            let reply = socket.receive(timeout: timeout) { $0.count > 4 && headEnds($0) }
            return reply.isEmpty ? nil : String(decoding: reply, as: UTF8.self)
        }
        func firstLine(_ text: String) -> String {
            // "\r\n" is a single Character: split on any newline.
            String((text.split(whereSeparator: \.isNewline).first ?? "").prefix(80))
        }
        func silent() -> (ProbeResult.Verdict, String) { (.openWrongProtocol, "open, but nothing answered within \(format(timeout))s") }
        switch service {
        case .rtsp:
            guard let reply = ask("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: portctl-probe\r\n\r\n") else { return silent() }
            guard reply.hasPrefix("RTSP/1.0 ") else { return (.openWrongProtocol, "expected RTSP, got \(describe(reply))") }
            guard let rtspPath else { return (.ok, firstLine(reply)) }
            // DESCRIBE the path: a server that plays it answers 200 with an SDP.
            let path = rtspPath.hasPrefix("/") ? rtspPath : "/" + rtspPath
            let hostPart = host.contains(":") ? "[\(host)]" : host
            guard let described = ask("DESCRIBE rtsp://\(hostPart):\(port)\(path) RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\nUser-Agent: portctl-probe\r\n\r\n") else {
                return (.openWrongProtocol, "RTSP answers OPTIONS, but nothing answered DESCRIBE \(path)")
            }
            if described.hasPrefix("RTSP/1.0 200"), described.lowercased().contains("application/sdp") {
                return (.ok, "\(firstLine(reply)); DESCRIBE \(path): SDP")
            }
            return (.openWrongProtocol, "RTSP answers OPTIONS, but DESCRIBE \(path) got \(firstLine(described))")
        case .rtspHTTP:
            let request = "GET / HTTP/1.0\r\nx-sessioncookie: portctlprobe\r\nAccept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n"
            guard let reply = ask(request) else { return silent() }
            if reply.hasPrefix("HTTP/1."), reply.lowercased().contains("application/x-rtsp-tunnelled") { return (.ok, "RTSP-over-HTTP tunnel: \(firstLine(reply))") }
            if reply.hasPrefix("HTTP/1.") { return (.openWrongProtocol, "an HTTP server without the RTSP tunnel: \(firstLine(reply))") }
            return (.openWrongProtocol, "expected the RTSP-over-HTTP tunnel, got \(describe(reply))")
        case .https, .rtmps:
            // The TLS session and what speaks inside it are the TLSCheck's job (ProbeCheck.run).
            return (.ok, "open")
        case .http, .admin, .rtmpt:
            guard let reply = ask("GET / HTTP/1.0\r\nHost: \(host)\r\nUser-Agent: portctl-probe\r\n\r\n") else { return silent() }
            if reply.hasPrefix("HTTP/1.") { return (.ok, firstLine(reply)) }
            return (.openWrongProtocol, "expected HTTP, got \(describe(reply))")
        case .icy:
            guard let reply = ask("GET / HTTP/1.0\r\nIcy-MetaData: 1\r\nUser-Agent: portctl-probe\r\n\r\n") else { return silent() }
            if reply.hasPrefix("ICY 200") || (reply.hasPrefix("HTTP/1.") && reply.lowercased().contains("\nicy-")) { return (.ok, "ICY: \(firstLine(reply))") }
            if reply.hasPrefix("HTTP/1.") { return (.openWrongProtocol, "an HTTP server without icy- headers: \(firstLine(reply))") }
            return (.openWrongProtocol, "expected ICY, got \(describe(reply))")
        case .mms:
            guard let reply = ask("GET / HTTP/1.0\r\nUser-Agent: NSPlayer/4.1.0.3856\r\nPragma: xClientGUID={c77e7400-738a-11d2-9add-0020af0a3278}\r\n\r\n") else { return silent() }
            let lower = reply.lowercased()
            if reply.hasPrefix("HTTP/1."), lower.contains("server: cougar") || lower.contains("application/vnd.ms.wms-hdr") || lower.contains("application/x-mms-framed") {
                return (.ok, "MMS over HTTP: \(firstLine(reply))")
            }
            return (.openWrongProtocol, "expected MMS over HTTP, got \(describe(reply))")
        case .rtmp:
            var c1 = [UInt8](repeating: 0, count: 1536)
            for index in 8..<1536 { c1[index] = UInt8.random(in: 0...255) }
            guard socket.send([0x03] + c1) else { return silent() }
            let reply = socket.receive(timeout: timeout, limit: 1 + 1536 + 1536) { $0.count >= 1 + 1536 }
            if reply.count >= 1537, reply[0] == 0x03 { return (.ok, "RTMP handshake: S0 version 3, S1 \(min(reply.count - 1, 1536)) bytes") }
            if reply.isEmpty { return silent() }
            return (.openWrongProtocol, "expected an RTMP S0/S1, got \(describe(String(decoding: reply.prefix(200), as: UTF8.self)))")
        default:
            return (.ok, "open")
        }
    }

    /// The knock of Shared/Wire: a valid reply under the key is streamd; ICMP unreachable is closed.
    static func udp(_ target: ProbeTarget, host: String, timeout: Double, key: KnockKey?, source: String?) -> (ProbeResult.Verdict, String) {
        guard let address = ProbeSocket.resolve(host, port: target.port, transport: .udp).first else { return (.error, "cannot resolve \(host)") }
        let descriptor = socket(ProbeSocket.family(of: address), Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return (.error, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        if let source, let error = ProbeSocket.bindSource(descriptor, source, family: ProbeSocket.family(of: address)) { return (.error, error) }
        // A connected UDP socket receives the ICMP port-unreachable as ECONNREFUSED.
        let connected = address.withUnsafeBytes { Glibc.connect(descriptor, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count)) }
        guard connected == 0 else { return (.error, String(cString: strerror(errno))) }
        let request = Knock.Request.random(port: UInt16(target.port))
        let deadline = Date().addingTimeInterval(timeout)
        var sends = 0
        var buffer = [UInt8](repeating: 0, count: 512)
        while Date() < deadline {
            // Resend twice in the window: a single lost datagram must not read as a firewall.
            if sends < 3, Double(sends) * timeout / 3 <= timeout - deadline.timeIntervalSinceNow {
                _ = request.bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
                sends += 1
            }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, min(deadline.timeIntervalSinceNow, timeout / 3) * 1000))) > 0 else { continue }
            let got = recv(descriptor, &buffer, buffer.count, 0)
            if got < 0 {
                if errno == ECONNREFUSED { return (.closed, "ICMP port unreachable") }
                continue
            }
            let reply = Array(buffer[0..<got])
            guard let key else { return (.ok, "open: a \(got)-byte reply (no --key to check it is streamd)") }
            if Knock.verify(reply: reply, for: request, key: key.key) { return (.ok, "open (streamd)") }
            return (.openWrongProtocol, "a reply that is not streamd's knock (wrong key, or another server)")
        }
        return (.filtered, "filtered or no responder: silence for \(format(timeout))s")
    }

    static func headEnds(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && (bytes.indices.dropLast(3).contains { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 })
    }

    static func describe(_ text: String) -> String {
        if text.hasPrefix("HTTP/") { return "HTTP (\(String(text.prefix { !$0.isNewline }.prefix(60))))" }
        if text.hasPrefix("RTSP/") { return "RTSP (\(String(text.prefix { !$0.isNewline }.prefix(60))))" }
        if text.hasPrefix("SSH-") { return "SSH" }
        let printable = text.prefix(40).map { $0.isASCII && !$0.isNewline && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0 == " ") ? $0 : "." }
        return "'\(String(printable))'"
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
