import FoundationEssentials
import PortModel

/// How a media check receives RTP: the three transports an RTSP player uses.
public enum MediaTransport: String, Sendable, CaseIterable {
    /// RTP to client ports over UDP, from the server's media range (`-rtsp_transport udp`).
    case udp
    /// RTP `$`-framed on the RTSP connection (`-rtsp_transport tcp`).
    case tcp
    /// RTSP and RTP tunnelled over HTTP, QuickTime's GET/POST pair (`-rtsp_transport http`).
    case http
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
        let sessions = checks.flatMap { check in
            (0..<max(1, clients)).map { _ in MediaSession(check: check, host: host, source: source, path: path) }
        }
        // The RTSP exchanges up to PLAY, on threads of their own (at most 64 at once).
        progress("media: setting up \(sessions.count) RTSP session\(sessions.count == 1 ? "" : "s")")
        let timeout = self.timeout
        let limit = Self.setupLimit(timeout: timeout)
        let finished = WorkerPool.run(
            count: sessions.count, width: 64, limit: limit,
            work: { index in
                sessions[index].start(timeout: timeout)
                return true
            },
            overdue: { _ in false },
            // A session given up on is its own thread's alone: that thread closes its sockets.
            late: { index, _ in sessions[index].close() })
        let live = sessions.indices.filter { finished[$0] && sessions[$0].failure == nil }.map { sessions[$0] }
        progress("media: receiving for \(ProbeCheck.format(duration))s")
        MediaReceiver.receive(live, for: duration)
        MediaReceiver.finish(live, wait: Self.closingWait(timeout: timeout))
        let seconds = Date().timeIntervalSince(started)
        return checks.map { check in
            let own = sessions.indices.filter { sessions[$0].check == check }
            return MediaVerdict.result(
                check: check, sessions: own.filter { finished[$0] }.map { sessions[$0].outcome }, seconds: seconds,
                overdue: own.filter { !finished[$0] }.count, limit: limit)
        }
    }
}
