import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How a media check receives RTP: the three transports an RTSP player uses.
public enum MediaTransport: String, Sendable, CaseIterable {
    /// RTP to client ports over UDP, from the server's media range (`-rtsp_transport udp`).
    case udp
    /// RTP `$`-framed on the RTSP connection (`-rtsp_transport tcp`).
    case tcp
    /// RTSP and RTP tunnelled over HTTP, QuickTime's GET/POST pair (`-rtsp_transport http`).
    case http
}

/// What the media check measured over one or more sessions of one transport on one port.
public struct MediaStats: Sendable, Equatable {
    public var clients = 0
    /// Sessions whose RTSP exchange failed, or that received nothing.
    public var failedClients = 0
    public var packets = 0
    public var expected = 0
    public var lost: Int { max(0, expected - packets) }
    public var lossPercent: Double { expected == 0 ? 0 : Double(lost) * 100 / Double(expected) }
    /// RFC 3550 interarrival jitter, in ms: the largest over the sessions.
    public var jitter = 0.0
    /// The 99th percentile of |D|, the per-packet transit variation, over all packets, in ms.
    public var jitterP99 = 0.0
    /// The server ports RTP came from (UDP), e.g. `6970-6971`.
    public var serverPorts: [String] = []
}

/// `portctl probe --media`: a real RTSP session per check. DESCRIBE, SETUP (UDP with client ports
/// and punch packets, interleaved TCP, or the HTTP tunnel), PLAY, then count the RTP that arrives
/// from the server's media port, check sequence continuity and timing, and TEARDOWN.
///
/// Every client of every check runs in one receive loop (poll over all sockets), so hundreds of
/// sessions cost one thread while receiving; the RTSP exchanges run on their own threads first.
public struct MediaProbe: Sendable {
    public var host: String
    public var timeout: Double = 2
    /// How long each session receives media after PLAY.
    public var duration: Double = 3
    public var clients = 1
    public var source: String?
    public var path = "/test"

    public init(host: String) {
        self.host = host
    }

    /// A media check to run: an RTSP port (or the tunnel's HTTP port) and a transport.
    public struct Check: Sendable, Hashable {
        public let port: Int
        public let transport: MediaTransport
        public let labels: [String]

        public init(port: Int, transport: MediaTransport, labels: [String]) {
            self.port = port
            self.transport = transport
            self.labels = labels
        }
    }

    /// The checks a plan calls for: UDP and interleaved TCP on every RTSP port (UDP only when the
    /// plan has a media range), and the tunnel on every RTSP-over-HTTP port.
    public static func checks(for targets: [ProbeTarget], transports: Set<MediaTransport> = Set(MediaTransport.allCases)) -> [Check] {
        let hasMediaRange = targets.contains { $0.transport == .udp && $0.service == .rtp }
        var checks: [Check] = []
        for target in targets where target.transport == .tcp {
            if target.service == .rtsp {
                if hasMediaRange || targets.allSatisfy({ $0.transport == .tcp }), transports.contains(.udp) {
                    checks.append(Check(port: target.port, transport: .udp, labels: target.labels))
                }
                if transports.contains(.tcp) { checks.append(Check(port: target.port, transport: .tcp, labels: target.labels)) }
            } else if target.service == .rtspHTTP, transports.contains(.http) {
                checks.append(Check(port: target.port, transport: .http, labels: target.labels))
            }
        }
        return checks
    }

    /// Runs every check's sessions at once and returns one result per check.
    public func run(_ checks: [Check], progress: @escaping @Sendable (String) -> Void = { _ in }) -> [ProbeResult] {
        let started = Date()
        let sessions = checks.flatMap { check in (0..<max(1, clients)).map { _ in MediaSession(check: check, host: host, source: source, path: path) } }
        // The RTSP exchanges up to PLAY, on threads of their own (at most 64 at once).
        progress("media: setting up \(sessions.count) RTSP session\(sessions.count == 1 ? "" : "s")")
        let gate = DispatchSemaphore(value: 64)
        let group = DispatchGroup()
        for session in sessions {
            gate.wait()
            group.enter()
            let timeout = self.timeout
            let thread = Thread {
                session.start(timeout: timeout)
                gate.signal()
                group.leave()
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        group.wait()
        progress("media: receiving for \(ProbeCheck.format(duration))s")
        MediaSession.receive(sessions.filter { $0.failure == nil }, for: duration)
        for session in sessions where session.failure == nil { session.stop(timeout: min(timeout, 1)) }
        let seconds = Date().timeIntervalSince(started)
        return checks.map { check in
            MediaSession.verdict(check: check, sessions: sessions.filter { $0.check == check }, host: host, seconds: seconds)
        }
    }
}

/// One RTSP session of a media check, with its sockets and what it received.
final class MediaSession: @unchecked Sendable {
    let check: MediaProbe.Check
    let host: String
    let source: String?
    let path: String
    var failure: (ProbeResult.Verdict, String)?
    var control: ProbeSocket?
    var post: ProbeSocket?
    var rtp: Int32 = -1
    var rtcp: Int32 = -1
    var session = ""
    var setupURL = ""
    var baseURL = ""
    var serverPorts = ""
    var cseq = 0
    /// Bytes read from the control (or tunnel GET) socket and not yet parsed.
    var pending: [UInt8] = []
    // What arrived.
    var packets = 0
    var firstSequence: Int?
    var highestSequence = 0
    var lastSequence: UInt16 = 0
    var cycles = 0
    var lastTransit: Double?
    var jitter = 0.0
    var deviations: [Double] = []

    init(check: MediaProbe.Check, host: String, source: String?, path: String) {
        self.check = check
        self.host = host
        self.source = source
        self.path = path.hasPrefix("/") ? path : "/" + path
    }

    // MARK: the RTSP exchange

    func start(timeout: Double) {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let url = "rtsp://\(hostPart):\(check.port)\(path)"
        guard let address = ProbeSocket.resolve(host, port: check.port, transport: .tcp).first else {
            failure = (.error, "cannot resolve \(host)")
            return
        }
        guard let socket = connect(address, timeout: timeout, what: check.transport == .http ? "the tunnel's GET" : "RTSP") else { return }
        control = socket
        if check.transport == .http {
            // QuickTime's tunnel: a GET that carries replies and media, a POST that carries base64 requests.
            let cookie = String((0..<22).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
            _ = socket.send(Array("GET \(path) HTTP/1.0\r\nUser-Agent: portctl-probe\r\nx-sessioncookie: \(cookie)\r\nAccept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n".utf8))
            guard let reply = readReply(timeout: timeout), reply.status == 200 else {
                failure = (.openWrongProtocol, "the RTSP-over-HTTP tunnel's GET was not answered 200")
                return
            }
            guard let postSocket = connect(address, timeout: timeout, what: "the tunnel's POST") else { return }
            post = postSocket
            _ = postSocket.send(Array("POST \(path) HTTP/1.0\r\nUser-Agent: portctl-probe\r\nx-sessioncookie: \(cookie)\r\nContent-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nContent-Length: 32767\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n".utf8))
        }
        guard let described = request("DESCRIBE", url, ["Accept: application/sdp"], timeout: timeout) else { return }
        guard described.status == 200 else { return fail(.openWrongProtocol, "DESCRIBE \(path) got \(described.status)") }
        baseURL = described.header("Content-Base") ?? (url.hasSuffix("/") ? url : url + "/")
        let sdp = String(decoding: described.body, as: UTF8.self)
        // The first media section's control attribute names the track to SET UP.
        let control = Self.trackControl(sdp)
        guard sdp.contains("m=audio") || sdp.contains("m=video") else { return fail(.openWrongProtocol, "DESCRIBE \(path): no media in the SDP") }
        if let control, control.hasPrefix("rtsp://") { setupURL = control } else {
            setupURL = (baseURL.hasSuffix("/") ? baseURL : baseURL + "/") + (control ?? "")
        }
        var transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        if check.transport == .udp {
            guard let (rtpPort, rtcpPort) = bindPair(family: ProbeSocket.family(of: address)) else {
                return fail(.error, "cannot bind a local UDP port pair for RTP")
            }
            transport = "RTP/AVP;unicast;client_port=\(rtpPort)-\(rtcpPort)"
        }
        guard let setup = request("SETUP", setupURL, ["Transport: \(transport)"], timeout: timeout) else { return }
        guard setup.status == 200, let sessionHeader = setup.header("Session") else {
            return fail(.openWrongProtocol, "SETUP (\(check.transport == .udp ? "UDP" : "interleaved")) got \(setup.status)\(setup.header("X-Streamd-Reason").map { ": \($0)" } ?? "")")
        }
        session = String(sessionHeader.split(separator: ";").first ?? "").trimmingCharacters(in: .whitespaces)
        if check.transport == .udp {
            let answer = setup.header("Transport") ?? ""
            guard let field = answer.split(separator: ";").first(where: { $0.hasPrefix("server_port=") }) else {
                return fail(.openWrongProtocol, "SETUP reply names no server_port")
            }
            serverPorts = String(field.dropFirst("server_port=".count))
            let numbers = serverPorts.split(separator: "-").compactMap { Int($0) }
            guard let first = numbers.first else { return fail(.openWrongProtocol, "SETUP reply's server_port '\(serverPorts)' is not a port") }
            let second = numbers.count > 1 ? numbers[1] : first + 1
            // Connected sockets: only datagrams from the server's media ports count, and the
            // punch packets open NAT and stateful firewalls on the way, as ffmpeg's do.
            guard connectUDP(rtp, port: first), connectUDP(rtcp, port: second) else { return fail(.error, "cannot address the server's media ports") }
            for _ in 0..<2 {
                let punchRTP: [UInt8] = [0x80, 0x00] + [UInt8](repeating: 0, count: 10)
                let punchRTCP: [UInt8] = [0x80, 0xC9, 0x00, 0x01, 0, 0, 0, 0]
                _ = punchRTP.withUnsafeBytes { Glibc.send(rtp, $0.baseAddress, $0.count, 0) }
                _ = punchRTCP.withUnsafeBytes { Glibc.send(rtcp, $0.baseAddress, $0.count, 0) }
            }
        }
        guard let play = request("PLAY", baseURL, ["Range: npt=0.000-"], timeout: timeout) else { return }
        guard play.status == 200 else { return fail(.openWrongProtocol, "PLAY got \(play.status)") }
    }

    func stop(timeout: Double) {
        if !session.isEmpty { _ = request("TEARDOWN", baseURL, [], timeout: timeout, wait: check.transport != .http) }
        control?.close()
        post?.close()
        if rtp >= 0 { Glibc.close(rtp) }
        if rtcp >= 0 { Glibc.close(rtcp) }
        control = nil
        post = nil
        rtp = -1
        rtcp = -1
    }

    private func fail(_ verdict: ProbeResult.Verdict, _ detail: String) {
        failure = (verdict, detail)
        stop(timeout: 0.2)
    }

    private func connect(_ address: Data, timeout: Double, what: String) -> ProbeSocket? {
        switch ProbeSocket.connect(address, timeout: timeout, source: source) {
        case .connected(let socket): return socket
        case .refused: fail(.closed, "\(what): connection refused")
        case .reset: fail(.openWrongProtocol, "\(what): the server reset the connection")
        case .timedOut: fail(.filtered, "\(what): no answer to the connection within \(ProbeCheck.format(timeout))s")
        case .failed(let reason): fail(.error, "\(what): \(reason)")
        }
        return nil
    }

    struct Reply {
        let status: Int
        let headers: [(String, String)]
        let body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Sends one request (through the POST side, base64, for the tunnel) and reads its reply.
    private func request(_ method: String, _ url: String, _ headers: [String], timeout: Double, wait: Bool = true) -> Reply? {
        cseq += 1
        var text = "\(method) \(url) RTSP/1.0\r\nCSeq: \(cseq)\r\nUser-Agent: portctl-probe\r\n"
        if !session.isEmpty { text += "Session: \(session)\r\n" }
        for header in headers { text += header + "\r\n" }
        text += "\r\n"
        let sent: Bool
        if check.transport == .http {
            sent = post?.send(Array(Data(text.utf8).base64EncodedString().utf8)) ?? false
        } else {
            sent = control?.send(Array(text.utf8)) ?? false
        }
        guard sent else {
            fail(.error, "\(method): the connection closed")
            return nil
        }
        guard wait else { return nil }
        guard let reply = readReply(timeout: timeout) else {
            fail(.openWrongProtocol, "\(method): no RTSP reply within \(ProbeCheck.format(timeout))s")
            return nil
        }
        return reply
    }

    /// Reads one RTSP or HTTP reply from the control socket; interleaved packets that come
    /// before it are counted as media.
    private func readReply(timeout: Double) -> Reply? {
        guard let control else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            consumeFrames(now: monotonic())
            if let (reply, used) = Self.parseReply(pending) {
                pending.removeFirst(used)
                return reply
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, pending.count < 256 * 1024 else { return nil }
            var poller = pollfd(fd: control.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left * 1000))) > 0 else { return nil }
            let got = recv(control.descriptor, &buffer, buffer.count, 0)
            guard got > 0 else { return nil }
            pending += buffer[0..<got]
        }
    }

    /// The `a=control:` of the SDP's first media section (a line of its own, after the first `m=`).
    static func trackControl(_ sdp: String) -> String? {
        let lines = sdp.split(whereSeparator: \.isNewline)
        guard let media = lines.firstIndex(where: { $0.hasPrefix("m=") }) else { return nil }
        for line in lines[(media + 1)...] {
            if line.hasPrefix("m=") { break }
            if line.hasPrefix("a=control:") { return String(line.dropFirst("a=control:".count)) }
        }
        return nil
    }

    static func parseReply(_ bytes: [UInt8]) -> (Reply, Int)? {
        guard bytes.first != 0x24, let end = (0..<max(0, bytes.count - 3)).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }) else {
            return nil
        }
        let lines = String(decoding: bytes[0..<end], as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        guard let first = lines.first else { return nil }
        let parts = first.split(separator: " ")
        let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        // The tunnel GET's reply has no length and never ends: its head is the whole reply.
        let isTunnelHead = first.hasPrefix("HTTP/") && headers.contains { $0.0.lowercased() == "content-type" && $0.1.contains("rtsp-tunnelled") }
        let length = isTunnelHead ? 0 : headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        guard bytes.count >= end + 4 + length else { return nil }
        return (Reply(status: status, headers: headers, body: Array(bytes[(end + 4)..<(end + 4 + length)])), end + 4 + length)
    }

    // MARK: UDP sockets

    /// Binds an even RTP port and the odd one after it (RFC 3550 §11), from --source when given.
    private func bindPair(family: Int32) -> (Int, Int)? {
        for _ in 0..<32 {
            let first = makeUDP(family: family, port: 0)
            guard first.fd >= 0 else { return nil }
            let port = first.port
            if port % 2 != 0 || port >= 65535 {
                Glibc.close(first.fd)
                continue
            }
            let second = makeUDP(family: family, port: port + 1)
            if second.fd < 0 {
                Glibc.close(first.fd)
                continue
            }
            rtp = first.fd
            rtcp = second.fd
            return (port, port + 1)
        }
        return nil
    }

    private func makeUDP(family: Int32, port: Int) -> (fd: Int32, port: Int) {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return (-1, 0) }
        var size: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        let address = source ?? (family == AF_INET ? "0.0.0.0" : "::")
        guard ProbeSocket.bindSource(fd, address, family: family, port: port) == nil else {
            Glibc.close(fd)
            return (-1, 0)
        }
        var local = sockaddr_storage()
        var localLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) } }
        let boundPort = withUnsafeBytes(of: local) { raw -> Int in
            Int(UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self)))
        }
        return (fd, boundPort)
    }

    private func connectUDP(_ fd: Int32, port: Int) -> Bool {
        guard let address = ProbeSocket.resolve(host, port: port, transport: .udp).first else { return false }
        return address.withUnsafeBytes { Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count)) } == 0
    }

    // MARK: receiving

    /// The descriptor media arrives on: the RTP socket, or the control (tunnel GET) connection.
    var mediaDescriptor: Int32 { check.transport == .udp ? rtp : control?.descriptor ?? -1 }

    /// Receives on every session's media socket for `seconds`, in one poll loop.
    static func receive(_ sessions: [MediaSession], for seconds: Double) {
        guard !sessions.isEmpty else { return }
        var pollers = sessions.map { pollfd(fd: $0.mediaDescriptor, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        // What queued while the other sessions were set up arrives all at once: count it, but
        // measure timing only from the packets that follow.
        drain(sessions, &pollers, &buffer, everything: true)
        for session in sessions { session.lastTransit = nil }
        let end = monotonic() + seconds
        var loops = 0
        while loops < 10_000_000 {
            loops += 1
            let left = end - monotonic()
            guard left > 0 else { break }
            guard poll(&pollers, nfds_t(pollers.count), Int32(max(1, min(left, 0.5) * 1000))) > 0 else { continue }
            drain(sessions, &pollers, &buffer)
        }
    }

    /// Reads what is ready on every socket poll marked (or on all, `everything`), stamped with one arrival time.
    private static func drain(_ sessions: [MediaSession], _ pollers: inout [pollfd], _ buffer: inout [UInt8], everything: Bool = false) {
        let now = monotonic()
        for index in pollers.indices where pollers[index].fd >= 0 && (everything || pollers[index].revents != 0) {
            let session = sessions[index]
            let events = pollers[index].revents
            if !everything, events & Int16(POLLIN | POLLERR) == 0 {
                // Hung up or invalid: stop watching it.
                pollers[index].fd = -1
                continue
            }
            // Drain what is queued, bounded, so one busy socket cannot starve the others.
            for _ in 0..<64 {
                let got = recv(pollers[index].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if got < 0 {
                    // An ICMP error on a UDP socket is reported once; keep listening.
                    if errno == EAGAIN || errno == EWOULDBLOCK || session.check.transport == .udp { break }
                    pollers[index].fd = -1
                    break
                }
                if session.check.transport == .udp {
                    session.count(Array(buffer[0..<got]), at: now)
                } else {
                    if got == 0 {
                        pollers[index].fd = -1
                        break
                    }
                    session.pending += buffer[0..<got]
                    session.consumeFrames(now: now)
                    if session.pending.count > 1 << 20 { session.pending.removeAll() }
                }
            }
        }
    }

    /// Takes `$`-framed packets off the front of `pending`; RTP on channel 0 counts.
    func consumeFrames(now: Double) {
        var offset = 0
        while pending.count - offset >= 4, pending[offset] == 0x24 {
            let length = Int(pending[offset + 2]) << 8 | Int(pending[offset + 3])
            guard pending.count - offset >= 4 + length else { break }
            if pending[offset + 1] == 0 { count(Array(pending[(offset + 4)..<(offset + 4 + length)]), at: now) }
            offset += 4 + length
        }
        if offset > 0 { pending.removeFirst(offset) }
    }

    /// One RTP packet: sequence continuity (extended for wrap-around) and RFC 3550 jitter.
    func count(_ packet: [UInt8], at arrival: Double) {
        guard packet.count >= 12, packet[0] >> 6 == 2, packet[1] & 0x7F < 72 || packet[1] & 0x7F > 76 else { return }
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        let timestamp = UInt32(packet[4]) << 24 | UInt32(packet[5]) << 16 | UInt32(packet[6]) << 8 | UInt32(packet[7])
        packets += 1
        if firstSequence == nil {
            firstSequence = Int(sequence)
            highestSequence = Int(sequence)
        } else {
            if sequence < lastSequence, lastSequence - sequence > 0x8000 { cycles += 1 }
            highestSequence = max(highestSequence, cycles * 65536 + Int(sequence))
        }
        lastSequence = sequence
        // Transit time in seconds, up to a constant: arrival minus the RTP clock (8 kHz for PCMU).
        let transit = arrival - Double(timestamp) / 8000
        if let last = lastTransit {
            var difference = abs(transit - last)
            if difference > 3600 { difference = 0 }  // an RTP timestamp wrap, not jitter
            jitter += (difference - jitter) / 16
            if deviations.count < 100_000 { deviations.append(difference * 1000) }
        }
        lastTransit = transit
    }

    var expected: Int { firstSequence.map { highestSequence - $0 + 1 } ?? 0 }

    static func verdict(check: MediaProbe.Check, sessions: [MediaSession], host: String, seconds: Double) -> ProbeResult {
        var stats = MediaStats()
        stats.clients = sessions.count
        var deviations: [Double] = []
        var failures: [(ProbeResult.Verdict, String)] = []
        for session in sessions {
            if let failure = session.failure {
                failures.append(failure)
                stats.failedClients += 1
                continue
            }
            if session.packets == 0 { stats.failedClients += 1 }
            stats.packets += session.packets
            stats.expected += session.expected
            stats.jitter = max(stats.jitter, session.jitter * 1000)
            deviations += session.deviations
            if !session.serverPorts.isEmpty, !stats.serverPorts.contains(session.serverPorts) { stats.serverPorts.append(session.serverPorts) }
        }
        deviations.sort()
        if !deviations.isEmpty { stats.jitterP99 = deviations[min(deviations.count - 1, Int(Double(deviations.count) * 0.99))] }
        let service: Service = check.transport == .http ? .rtspHTTP : .rtsp
        let target = ProbeTarget(transport: .tcp, port: check.port, service: service, labels: check.labels, range: "\(check.port)/tcp", media: check.transport)
        let verdict: ProbeResult.Verdict
        var detail: String
        let many = sessions.count > 1 ? "\(sessions.count) clients, " : ""
        let ok = sessions.count - stats.failedClients
        if failures.count == sessions.count, let first = failures.first {
            verdict = first.0
            detail = "RTSP failed: \(first.1)"
        } else if stats.packets == 0 || ok == 0 {
            verdict = .mediaBlocked
            let path: String
            switch check.transport {
            case .udp:
                let ports = stats.serverPorts.isEmpty ? "the media range" : stats.serverPorts.map { "udp/\($0)" }.joined(separator: ", ")
                path = "no RTP on \(ports)"
            case .tcp: path = "no interleaved RTP on tcp/\(check.port)"
            case .http: path = "no RTP through the HTTP tunnel on tcp/\(check.port)"
            }
            detail = "media blocked (RTSP ok, \(path))"
        } else {
            detail = "media ok (\(many)\(stats.packets) packets, loss \(twoDecimals(stats.lossPercent))%, jitter \(twoDecimals(sessions.count > 1 ? stats.jitterP99 : stats.jitter)) ms"
            detail += sessions.count > 1 ? " p99" : ""
            if stats.failedClients > 0 { detail += ", \(stats.failedClients) of \(sessions.count) clients failed" }
            detail += ")"
            // Sessions that failed, or more than 5% of packets lost: the path works but badly.
            verdict = stats.failedClients > 0 || stats.lossPercent > 5 ? .mediaDegraded : .ok
            if verdict == .mediaDegraded { detail = "media degraded" + detail.dropFirst("media ok".count) }
        }
        return ProbeResult(target: target, verdict: verdict, detail: detail, seconds: seconds, media: stats)
    }

    /// Percentages and milliseconds in reports: two decimals.
    static func twoDecimals(_ value: Double) -> String { fixedPoint(value, places: 2) }
}

