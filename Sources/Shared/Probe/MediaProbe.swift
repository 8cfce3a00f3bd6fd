import Foundation

import PortModel
import PortPlanning
import PlanRendering
import StreamWire
import KnockAuth

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
    /// The punch packets streamd says reached it before PLAY, summed over the sessions: new flows
    /// into the media range, which get in only when the range is open inbound. nil when the
    /// server did not say (not streamd).
    public var punchesReceived: Int?
    /// All the datagrams (punch packets, RTCP receiver reports) streamd says it received from the
    /// players, from its TEARDOWN replies; reports that answer its own RTCP can pass a stateful
    /// firewall as replies, so this alone does not prove the range open.
    public var serverReceived: Int?
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
        /// The plan's media range (`6970-6999`), when known: where RTCP from the player must get in.
        public var mediaRange: String?

        public init(port: Int, transport: MediaTransport, labels: [String], mediaRange: String? = nil) {
            self.port = port
            self.transport = transport
            self.labels = labels
            self.mediaRange = mediaRange
        }
    }

    /// The checks a plan calls for: UDP and interleaved TCP on every RTSP port (UDP only when the
    /// plan has a media range), and the tunnel on every RTSP-over-HTTP port.
    public static func checks(for targets: [ProbeTarget], transports: Set<MediaTransport> = Set(MediaTransport.allCases)) -> [Check] {
        let mediaTarget = targets.first { $0.transport == .udp && $0.service == .rtp }
        let hasMediaRange = mediaTarget != nil
        let range = mediaTarget.map { String($0.range.split(separator: "/").first ?? "") }
        var checks: [Check] = []
        for target in targets where target.transport == .tcp {
            if target.service == .rtsp {
                if hasMediaRange || targets.allSatisfy({ $0.transport == .tcp }), transports.contains(.udp) {
                    checks.append(Check(port: target.port, transport: .udp, labels: target.labels, mediaRange: range))
                }
                if transports.contains(.tcp) { checks.append(Check(port: target.port, transport: .tcp, labels: target.labels)) }
            } else if target.service == .rtspHTTP, transports.contains(.http) {
                checks.append(Check(port: target.port, transport: .http, labels: target.labels))
            }
        }
        return checks
    }

    /// How long one session's RTSP exchange up to PLAY may take before the probe stops waiting
    /// for it: connects and requests of one timeout each (the tunnel's two connects and its GET,
    /// DESCRIBE, SETUP, PLAY; or a connect, DESCRIBE, SETUP, GET_PARAMETER, PLAY) are at most
    /// six timeouts; six and a margin.
    public static func setupLimit(timeout: Double) -> Double { 6 * timeout + 2 }

    /// The one wait for every session's TEARDOWN reply: short, for all sessions at once, and it
    /// decides nothing.
    public static func closingWait(timeout: Double) -> Double { min(timeout, 0.5) }

    /// Runs every check's sessions at once and returns one result per check.
    ///
    /// Every phase is bounded whatever the server does: the RTSP exchanges by `setupLimit` each
    /// (one that hangs past it is given up on and reads `error`), the receiving by `duration`,
    /// and TEARDOWN by one `closingWait`.
    public func run(_ checks: [Check], progress: @escaping @Sendable (String) -> Void = { _ in }) -> [ProbeResult] {
        let started = Date()
        let sessions = checks.flatMap { check in (0..<max(1, clients)).map { _ in MediaSession(check: check, host: host, source: source, path: path) } }
        // The RTSP exchanges up to PLAY, on threads of their own (at most 64 at once).
        progress("media: setting up \(sessions.count) RTSP session\(sessions.count == 1 ? "" : "s")")
        let timeout = self.timeout
        let limit = Self.setupLimit(timeout: timeout)
        let finished = WorkerPool.run(
            count: sessions.count, width: 64, limit: limit,
            work: { index, _ in
                sessions[index].start(timeout: timeout)
                return true
            },
            overdue: { _ in false },
            // A session given up on is its own thread's alone: that thread closes its sockets.
            late: { index, _ in sessions[index].close() })
        let live = sessions.indices.filter { finished[$0] && sessions[$0].failure == nil }.map { sessions[$0] }
        progress("media: receiving for \(ProbeCheck.format(duration))s")
        MediaSession.receive(live, for: duration)
        MediaSession.finish(live, wait: Self.closingWait(timeout: timeout))
        let seconds = Date().timeIntervalSince(started)
        return checks.map { check in
            let own = sessions.indices.filter { sessions[$0].check == check }
            return MediaSession.verdict(
                check: check, sessions: own.filter { finished[$0] }.map { sessions[$0] }, host: host, seconds: seconds,
                overdue: own.filter { !finished[$0] }.count, limit: limit)
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
    /// The control connection ended during the session: the server `closed` or `reset` it.
    var lost: String?
    /// The server says `Server: streamd/...`: it answers `X-Streamd-RTCP`.
    var isStreamd = false
    /// What streamd says reached it from this player over UDP (`X-Streamd-RTCP: received=N`):
    /// before PLAY (the punch packets), and in all (from the TEARDOWN reply).
    var punchesReceived: Int?
    var serverReceived: Int?
    /// The SSRC of this player's RTCP receiver reports.
    let ssrc = UInt32.random(in: 1...UInt32.max)
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
            let cookie = String((0..<22).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement() ?? "a" })
            _ = socket.send(Array("GET \(path) HTTP/1.0\r\nUser-Agent: portctl-probe\r\nx-sessioncookie: \(cookie)\r\nAccept: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n\r\n".utf8))
            switch readReply(timeout: timeout, protocol: "HTTP/") {
            case .reply(let reply) where reply.status == 200: break
            default: return fail(.openWrongProtocol, "the RTSP-over-HTTP tunnel's GET was not answered 200")
            }
            guard let postSocket = connect(address, timeout: timeout, what: "the tunnel's POST") else { return }
            post = postSocket
            _ = postSocket.send(Array("POST \(path) HTTP/1.0\r\nUser-Agent: portctl-probe\r\nx-sessioncookie: \(cookie)\r\nContent-Type: application/x-rtsp-tunnelled\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nContent-Length: 32767\r\nExpires: Sun, 9 Jan 1972 00:00:00 GMT\r\n\r\n".utf8))
        }
        guard let described = exchange("DESCRIBE", url, ["Accept: application/sdp"], timeout: timeout) else { return }
        guard described.status == 200 else { return fail(.openWrongProtocol, "DESCRIBE \(path) got \(described.status)") }
        isStreamd = described.header("Server")?.hasPrefix("streamd/") ?? false
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
        guard let setup = exchange("SETUP", setupURL, ["Transport: \(transport)"], timeout: timeout) else { return }
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
            guard let first = numbers.first, (1...65535).contains(first) else { return fail(.openWrongProtocol, "SETUP reply's server_port '\(serverPorts.prefix(40))' is not a port") }
            let second = numbers.count > 1 ? numbers[1] : first + 1
            // Connected sockets: only datagrams from the server's media ports count, and the
            // punch packets open NAT and stateful firewalls on the way, as ffmpeg's do.
            guard (1...65535).contains(second), connectUDP(rtp, port: first), connectUDP(rtcp, port: second) else { return fail(.error, "cannot address the server's media ports") }
            for _ in 0..<2 {
                let punchRTP: [UInt8] = [0x80, 0x00] + [UInt8](repeating: 0, count: 10)
                _ = punchRTP.withUnsafeBytes { Glibc.send(rtp, $0.baseAddress, $0.count, 0) }
                sendReceiverReport()
            }
            if isStreamd {
                // Before PLAY the server has sent nothing to these ports, so the punch packets
                // are new flows: they reach streamd only if the media range is open inbound.
                // (Later receiver reports can pass a stateful firewall as replies to its RTCP.)
                // A moment for them to land first: they and this request take different paths in.
                usleep(50_000)
                guard let asked = exchange("GET_PARAMETER", baseURL, [], timeout: timeout) else { return }
                punchesReceived = Self.receivedCount(asked)
            }
        }
        guard let play = exchange("PLAY", baseURL, ["Range: npt=0.000-"], timeout: timeout) else { return }
        guard play.status == 200 else { return fail(.openWrongProtocol, "PLAY got \(play.status)") }
    }

    /// An empty RTCP receiver report (RFC 3550 §6.4.2) to the server's RTCP port, as players send
    /// them: streamd counts what arrives, and real servers drop sessions that send none.
    func sendReceiverReport() {
        guard rtcp >= 0 else { return }
        let report: [UInt8] = [0x80, 0xC9, 0x00, 0x01, UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF)]
        _ = report.withUnsafeBytes { Glibc.send(rtcp, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
    }

    /// Closes every socket of the session; safe to call more than once.
    func close() {
        control?.close()
        post?.close()
        if rtp >= 0 { Glibc.close(rtp) }
        if rtcp >= 0 { Glibc.close(rtcp) }
        control = nil
        post = nil
        rtp = -1
        rtcp = -1
    }

    /// The RTSP exchange failed: that is the session's verdict. A session the server set up gets a
    /// TEARDOWN on the way out, sent and not waited for: it can neither fail nor decide anything.
    private func fail(_ verdict: ProbeResult.Verdict, _ detail: String) {
        failure = (verdict, detail)
        if !session.isEmpty { _ = send("TEARDOWN", baseURL, []) }
        close()
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

    /// Sends one request: through the POST side, base64, for the tunnel. False when it could not go.
    func send(_ method: String, _ url: String, _ headers: [String]) -> Bool {
        cseq += 1
        var text = "\(method) \(url) RTSP/1.0\r\nCSeq: \(cseq)\r\nUser-Agent: portctl-probe\r\n"
        if !session.isEmpty { text += "Session: \(session)\r\n" }
        for header in headers { text += header + "\r\n" }
        text += "\r\n"
        if check.transport == .http { return post?.send(Array(Data(text.utf8).base64EncodedString().utf8)) ?? false }
        return control?.send(Array(text.utf8)) ?? false
    }

    /// Sends one request of the exchange and reads its reply; on any failure the session fails
    /// with what went wrong, and the answer is nil.
    private func exchange(_ method: String, _ url: String, _ headers: [String], timeout: Double) -> Reply? {
        guard send(method, url, headers) else {
            fail(.openWrongProtocol, "\(method): the server closed the connection")
            return nil
        }
        switch readReply(timeout: timeout, protocol: "RTSP/") {
        case .reply(let reply): return reply
        case .timedOut: fail(.openWrongProtocol, "\(method): no RTSP reply within \(ProbeCheck.format(timeout))s")
        case .closed: fail(.openWrongProtocol, "\(method): the server closed the connection")
        case .reset: fail(.openWrongProtocol, "\(method): the server reset the connection")
        case .garbage(let text): fail(.openWrongProtocol, "\(method): expected an RTSP reply, got \(ProbeCheck.describe(text))")
        }
        return nil
    }

    enum ReadOutcome {
        case reply(Reply)
        case timedOut
        case closed
        case reset
        /// Something that is not a reply of the protocol: its first line.
        case garbage(String)
    }

    /// Reads one RTSP or HTTP reply (starting with `protocol`) from the control socket;
    /// interleaved packets that come before it are counted as media.
    private func readReply(timeout: Double, protocol prefix: String) -> ReadOutcome {
        guard let control else { return .closed }
        let deadline = monotonic() + timeout
        var buffer = [UInt8](repeating: 0, count: 8192)
        for _ in 0..<1_000_000 {
            if let outcome = takeReply(protocol: prefix) { return outcome }
            let left = deadline - monotonic()
            guard left > 0 else { return .timedOut }
            guard pending.count < 256 * 1024 else { return .garbage(String(decoding: pending.prefix(80), as: UTF8.self)) }
            var poller = pollfd(fd: control.descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, left * 1000))) > 0 else { return .timedOut }
            let got = recv(control.descriptor, &buffer, buffer.count, 0)
            if got == 0 { return .closed }
            if got < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return errno == ECONNRESET ? .reset : .closed
            }
            pending += buffer[0..<got]
        }
        return .timedOut
    }

    /// A whole reply off the front of `pending` (after any interleaved frames), garbage as soon as
    /// the bytes cannot begin one, or nil while more must come.
    func takeReply(protocol prefix: String) -> ReadOutcome? {
        consumeFrames(now: monotonic())
        if pending.first == 0x24 { return nil }
        let expected = Array(prefix.utf8)
        let compared = min(pending.count, expected.count)
        if Array(pending[0..<compared]) != Array(expected[0..<compared]) {
            return .garbage(String(String(decoding: pending.prefix(200), as: UTF8.self).prefix { !$0.isNewline }))
        }
        guard let (reply, used) = Self.parseReply(pending) else { return nil }
        pending.removeFirst(used)
        return .reply(reply)
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
        let length = isTunnelHead ? 0 : max(0, min(1 << 20, headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0))
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

    /// Seconds between the receiver reports a UDP session sends, as players send them.
    static let reportEvery = 1.0

    /// One socket the receive loop watches: a session's media socket, or the control connection
    /// of a UDP session (watched for the server hanging up).
    struct Watch {
        let session: Int
        let control: Bool
    }

    /// Receives on every session's media socket for `seconds`, in one poll loop; UDP sessions
    /// send an RTCP receiver report every second, and their control connections are watched.
    static func receive(_ sessions: [MediaSession], for seconds: Double) {
        guard !sessions.isEmpty else { return }
        var watches: [Watch] = []
        var pollers: [pollfd] = []
        for (index, session) in sessions.enumerated() {
            watches.append(Watch(session: index, control: false))
            pollers.append(pollfd(fd: session.mediaDescriptor, events: Int16(POLLIN), revents: 0))
            if session.check.transport == .udp, let control = session.control {
                watches.append(Watch(session: index, control: true))
                pollers.append(pollfd(fd: control.descriptor, events: Int16(POLLIN), revents: 0))
            }
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        // What queued while the other sessions were set up arrives all at once: count it, but
        // measure timing only from the packets that follow.
        drain(sessions, watches, &pollers, &buffer, everything: true)
        for session in sessions { session.lastTransit = nil }
        let started = monotonic()
        let end = started + seconds
        var nextReport = started + reportEvery
        for _ in 0..<10_000_000 {
            let now = monotonic()
            if now >= nextReport {
                for session in sessions where session.lost == nil { session.sendReceiverReport() }
                nextReport += reportEvery
            }
            let left = end - now
            guard left > 0 else { break }
            let wait = min(left, nextReport - now, 0.5)
            guard poll(&pollers, nfds_t(pollers.count), Int32(max(1, wait * 1000))) > 0 else { continue }
            drain(sessions, watches, &pollers, &buffer)
        }
    }

    /// Reads what is ready on every socket poll marked (or on all, `everything`), stamped with one arrival time.
    private static func drain(_ sessions: [MediaSession], _ watches: [Watch], _ pollers: inout [pollfd], _ buffer: inout [UInt8], everything: Bool = false) {
        let now = monotonic()
        for index in pollers.indices where pollers[index].fd >= 0 && (everything || pollers[index].revents != 0) {
            let session = sessions[watches[index].session]
            if pollers[index].revents & Int16(POLLNVAL) != 0 {
                pollers[index].fd = -1
                continue
            }
            let stream = session.check.transport != .udp || watches[index].control
            // Drain what is queued, bounded, so one busy socket cannot starve the others.
            for _ in 0..<64 {
                let got = recv(pollers[index].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if got < 0 {
                    let code = errno
                    if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { break }
                    // An ICMP error on a UDP media socket is reported once; keep listening.
                    if !stream { break }
                    session.lost = code == ECONNRESET ? "reset" : "closed"
                    pollers[index].fd = -1
                    break
                }
                if !stream {
                    session.count(Array(buffer[0..<got]), at: now)
                    continue
                }
                if got == 0 {
                    session.lost = "closed"
                    pollers[index].fd = -1
                    break
                }
                session.pending += buffer[0..<got]
                session.consumeFrames(now: now)
                if session.pending.count > 1 << 20 { session.pending.removeAll() }
            }
        }
    }

    /// After the receive window: tears every session down and closes its sockets. TEARDOWN is
    /// best effort: one `wait` for every reply at once, and neither a missing reply nor a hang-up
    /// changes a verdict. streamd's reply says what it received from a UDP player in all.
    static func finish(_ sessions: [MediaSession], wait: Double) {
        let tearing = sessions.filter { $0.lost == nil && $0.control != nil && $0.send("TEARDOWN", $0.baseURL, []) }
        collect(tearing, wait: wait) { session, reply in session.serverReceived = receivedCount(reply) }
        for session in sessions { session.close() }
    }

    /// N of streamd's `X-Streamd-RTCP: received=N`, when the reply has it.
    static func receivedCount(_ reply: Reply) -> Int? {
        guard let header = reply.header("X-Streamd-RTCP") else { return nil }
        return header.split(separator: ";").lazy.compactMap { field -> Int? in
            let pair = field.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            return pair.count == 2 && pair[0] == "received" ? Int(pair[1]) : nil
        }.first
    }

    /// Waits at most `wait` seconds for one reply on each session's control connection, in one
    /// poll loop, and hands each reply to `handle`; a session that hangs up is simply done.
    private static func collect(_ sessions: [MediaSession], wait: Double, handle: (MediaSession, Reply) -> Void) {
        guard !sessions.isEmpty else { return }
        var pollers = sessions.map { pollfd(fd: $0.control?.descriptor ?? -1, events: Int16(POLLIN), revents: 0) }
        var waiting = sessions.count
        var buffer = [UInt8](repeating: 0, count: 8192)
        let end = monotonic() + wait
        for _ in 0..<100_000 where waiting > 0 {
            let left = end - monotonic()
            guard left > 0 else { return }
            guard poll(&pollers, nfds_t(pollers.count), Int32(max(1, left * 1000))) > 0 else { continue }
            for index in pollers.indices where pollers[index].fd >= 0 && pollers[index].revents != 0 {
                let session = sessions[index]
                let got = recv(pollers[index].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if got < 0, errno == EAGAIN || errno == EINTR { continue }
                if got > 0, session.pending.count < 1 << 20 {
                    session.pending += buffer[0..<got]
                    switch session.takeReply(protocol: "RTSP/") {
                    case nil: continue
                    case .reply(let reply)?: handle(session, reply)
                    default: break
                    }
                }
                pollers[index].fd = -1
                waiting -= 1
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

    /// One result for a check from its sessions. `overdue` sessions did not finish their RTSP
    /// exchange within `limit` seconds and were given up on: they count as failed, with an error.
    static func verdict(check: MediaProbe.Check, sessions: [MediaSession], host: String, seconds: Double, overdue: Int = 0, limit: Double = 0) -> ProbeResult {
        var stats = MediaStats()
        stats.clients = sessions.count + overdue
        stats.failedClients = overdue
        var deviations: [Double] = []
        var failures = [(ProbeResult.Verdict, String)](
            repeating: (.error, "the RTSP exchange did not finish within \(ProbeCheck.format(limit))s; the probe stopped waiting for it"), count: overdue)
        var oneWay = 0
        for session in sessions {
            if let failure = session.failure {
                failures.append(failure)
                stats.failedClients += 1
                continue
            }
            if let lost = session.lost, session.packets == 0 {
                // The server hung up after PLAY and sent nothing: its doing, not the firewall's.
                failures.append((.openWrongProtocol, "the server \(lost) the RTSP connection after PLAY"))
                stats.failedClients += 1
                continue
            }
            let blockedBack = session.packets > 0 && session.punchesReceived == 0
            if blockedBack { oneWay += 1 }
            if session.packets == 0 || session.lost != nil || blockedBack { stats.failedClients += 1 }
            stats.packets += session.packets
            stats.expected += session.expected
            stats.jitter = max(stats.jitter, session.jitter * 1000)
            deviations += session.deviations
            if let received = session.punchesReceived { stats.punchesReceived = (stats.punchesReceived ?? 0) + received }
            if let received = session.serverReceived { stats.serverReceived = (stats.serverReceived ?? 0) + received }
            if !session.serverPorts.isEmpty, !stats.serverPorts.contains(session.serverPorts) { stats.serverPorts.append(session.serverPorts) }
        }
        deviations.sort()
        if !deviations.isEmpty { stats.jitterP99 = deviations[min(deviations.count - 1, Int(Double(deviations.count) * 0.99))] }
        let service: Service = check.transport == .http ? .rtspHTTP : .rtsp
        let target = ProbeTarget(transport: .tcp, port: check.port, service: service, labels: check.labels, range: "\(check.port)/tcp", media: check.transport)
        let verdict: ProbeResult.Verdict
        var detail: String
        let clients = stats.clients
        let many = clients > 1 ? "\(clients) clients, " : ""
        let serverPorts = stats.serverPorts.isEmpty ? "the media range" : stats.serverPorts.map { "udp/\($0)" }.joined(separator: ", ")
        let withPackets = sessions.filter { $0.failure == nil && $0.packets > 0 }.count
        if failures.count == clients, let first = failures.first {
            verdict = first.0
            detail = "RTSP failed: \(first.1)"
        } else if stats.packets == 0 {
            verdict = .mediaBlocked
            let path: String
            switch check.transport {
            case .udp: path = "no RTP on \(serverPorts)"
            case .tcp: path = "no interleaved RTP on tcp/\(check.port)"
            case .http: path = "no RTP through the HTTP tunnel on tcp/\(check.port)"
            }
            detail = "media blocked (RTSP ok, \(path))"
        } else if oneWay > 0, oneWay == withPackets {
            // RTP comes out, but not one of the player's datagrams got in: a firewall that lets
            // the media range out and not in (DSS drops a session without receiver reports).
            verdict = .mediaOneWay
            let range = check.mediaRange.map { "udp/\($0)" } ?? serverPorts
            detail = "media one-way: RTP arrives, RTCP from the player is blocked on \(range); real servers will drop the session"
        } else {
            detail = "media ok (\(many)\(stats.packets) packets, loss \(twoDecimals(stats.lossPercent))%, jitter \(twoDecimals(clients > 1 ? stats.jitterP99 : stats.jitter)) ms"
            detail += clients > 1 ? " p99" : ""
            if stats.failedClients > 0 { detail += ", \(stats.failedClients) of \(clients) clients failed" }
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
