import FoundationEssentials
import PortModel
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

/// Why a media session failed before any media: the verdict that reads, and what went wrong.
struct MediaFailure: Error, Equatable {
    let verdict: ProbeResult.Verdict
    let detail: String

    init(_ verdict: ProbeResult.Verdict, _ detail: String) {
        self.verdict = verdict
        self.detail = detail
    }
}

/// One RTSP session of a media check: DESCRIBE, SETUP (UDP with client ports and punch packets,
/// interleaved TCP, or the HTTP tunnel) and PLAY, its sockets, and what it received. Used by one
/// thread at a time: its own for the exchange, then the receive loop's.
final class MediaSession: @unchecked Sendable {
    let check: MediaProbe.Check
    let host: String
    let source: String?
    let path: String
    let rtsp: RTSPClient
    /// The UDP pair RTP arrives on (UDP sessions).
    var pair: RTPPortPair?
    var failure: MediaFailure?
    /// The URL of the session's aggregate requests (PLAY, TEARDOWN).
    var baseURL = ""
    /// The server's media ports from SETUP (UDP), e.g. `6970-6971`.
    var serverPorts = ""
    /// The control connection ended during the session: the server `closed` or `reset` it.
    var lost: String?
    /// What streamd says reached it from this player over UDP (`X-Streamd-RTCP: received=N`):
    /// before PLAY (the punch packets), and in all (from the TEARDOWN reply).
    var punchesReceived: Int?
    var serverReceived: Int?
    /// The RTP that arrived, on the UDP pair or interleaved on the control connection.
    var stats = RTPReceptionStats()

    init(check: MediaProbe.Check, host: String, source: String?, path: String) {
        self.check = check
        self.host = host
        self.source = source
        self.path = path.hasPrefix("/") ? path : "/" + path
        self.rtsp = RTSPClient(tunnelled: check.transport == .http)
        // The client lives and dies with the session: it never calls this after the session is gone.
        rtsp.interleaved = { [unowned self] packet, now in self.stats.count(packet, at: now) }
    }

    /// The descriptor media arrives on: the RTP socket, or the control (tunnel GET) connection.
    var mediaDescriptor: Int32 { check.transport == .udp ? pair?.rtp ?? -1 : rtsp.control?.descriptor ?? -1 }

    /// What the verdict reads of this session.
    var outcome: MediaVerdict.Session {
        MediaVerdict.Session(
            failure: failure, lost: lost, stats: stats, punchesReceived: punchesReceived, serverReceived: serverReceived,
            serverPorts: serverPorts)
    }

    /// The RTSP exchange up to PLAY. On failure that is the session's verdict: a session the server
    /// set up gets a TEARDOWN on the way out, sent and not waited for (it can neither fail nor
    /// decide anything), and every socket is closed.
    func start(timeout: Double) {
        do {
            try setUp(timeout: timeout)
        } catch {
            failure = error
            if !rtsp.session.isEmpty { _ = rtsp.send("TEARDOWN", baseURL, []) }
            close()
        }
    }

    private func setUp(timeout: Double) throws(MediaFailure) {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let url = "rtsp://\(hostPart):\(check.port)\(path)"
        guard let address = ProbeSocket.resolve(host, port: check.port, transport: .tcp).first else {
            throw MediaFailure(.error, "cannot resolve \(host)")
        }
        try rtsp.open(address, path: path, timeout: timeout, source: source)
        let described = try rtsp.exchange("DESCRIBE", url, ["Accept: application/sdp"], timeout: timeout)
        guard described.status == 200 else { throw MediaFailure(.openWrongProtocol, "DESCRIBE \(path) got \(described.status)") }
        let isStreamd = described.header("Server")?.hasPrefix("streamd/") ?? false
        baseURL = described.header("Content-Base") ?? (url.hasSuffix("/") ? url : url + "/")
        let sdp = String(decoding: described.body, as: UTF8.self)
        // The first media section's control attribute names the track to SET UP.
        let control = RTSPReply.trackControl(sdp)
        guard sdp.contains("m=audio") || sdp.contains("m=video") else {
            throw MediaFailure(.openWrongProtocol, "DESCRIBE \(path): no media in the SDP")
        }
        let setupURL: String
        if let control, control.hasPrefix("rtsp://") {
            setupURL = control
        } else {
            setupURL = (baseURL.hasSuffix("/") ? baseURL : baseURL + "/") + (control ?? "")
        }
        var transport = "RTP/AVP/TCP;unicast;interleaved=0-1"
        if check.transport == .udp {
            guard let pair = RTPPortPair.bind(family: ProbeSocket.family(of: address), source: source) else {
                throw MediaFailure(.error, "cannot bind a local UDP port pair for RTP")
            }
            self.pair = pair
            transport = "RTP/AVP;unicast;client_port=\(pair.port)-\(pair.port + 1)"
        }
        let setup = try rtsp.exchange("SETUP", setupURL, ["Transport: \(transport)"], timeout: timeout)
        guard setup.status == 200, let sessionHeader = setup.header("Session") else {
            throw MediaFailure(
                .openWrongProtocol,
                "SETUP (\(check.transport == .udp ? "UDP" : "interleaved")) got \(setup.status)\(setup.header("X-Streamd-Reason").map { ": \($0)" } ?? "")"
            )
        }
        rtsp.session = String(sessionHeader.split(separator: ";").first ?? "").trimmingSpaces()
        if let pair { try punch(pair, setup: setup, askStreamd: isStreamd, timeout: timeout) }
        let play = try rtsp.exchange("PLAY", baseURL, ["Range: npt=0.000-"], timeout: timeout)
        guard play.status == 200 else { throw MediaFailure(.openWrongProtocol, "PLAY got \(play.status)") }
    }

    /// Connects the UDP pair to the server's media ports from the SETUP reply and sends the punch
    /// packets; streamd is then asked how many reached it.
    private func punch(_ pair: RTPPortPair, setup: RTSPReply, askStreamd: Bool, timeout: Double) throws(MediaFailure) {
        let answer = setup.header("Transport") ?? ""
        guard let field = answer.split(separator: ";").first(where: { $0.hasPrefix("server_port=") }) else {
            throw MediaFailure(.openWrongProtocol, "SETUP reply names no server_port")
        }
        serverPorts = String(field.dropFirst("server_port=".count))
        let numbers = serverPorts.split(separator: "-").compactMap { Int($0) }
        guard let first = numbers.first, (1...65535).contains(first) else {
            throw MediaFailure(.openWrongProtocol, "SETUP reply's server_port '\(serverPorts.prefix(40))' is not a port")
        }
        let second = numbers.count > 1 ? numbers[1] : first + 1
        // Connected sockets: only datagrams from the server's media ports count, and the
        // punch packets open NAT and stateful firewalls on the way, as ffmpeg's do.
        guard (1...65535).contains(second), pair.connect(host: host, rtpPort: first, rtcpPort: second) else {
            throw MediaFailure(.error, "cannot address the server's media ports")
        }
        pair.punch()
        guard askStreamd else { return }
        // Before PLAY the server has sent nothing to these ports, so the punch packets
        // are new flows: they reach streamd only if the media range is open inbound.
        // (Later receiver reports can pass a stateful firewall as replies to its RTCP.)
        // A moment for them to land first: they and this request take different paths in.
        usleep(50_000)
        punchesReceived = try rtsp.exchange("GET_PARAMETER", baseURL, [], timeout: timeout).received
    }

    /// Closes every socket of the session; safe to call more than once.
    func close() {
        rtsp.close()
        pair?.close()
    }
}
