import PortModel
import PortPlanning
import StreamWire

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

/// One result for a media check, from what its sessions came to: a pure function of values, so
/// every verdict can be tested on crafted sessions.
enum MediaVerdict {
    /// What the verdict reads of one session once it is over.
    struct Session {
        /// Why the RTSP exchange up to PLAY failed.
        var failure: MediaFailure?
        /// How the control connection ended during the session (`closed`, `reset`).
        var lost: String?
        var stats = RTPReceptionStats()
        /// What streamd says reached it from this player over UDP: before PLAY, and in all.
        var punchesReceived: Int?
        var serverReceived: Int?
        /// The server's media ports from SETUP (UDP), e.g. `6970-6971`.
        var serverPorts = ""
    }

    /// `overdue` sessions did not finish their RTSP exchange within `limit` seconds and were given
    /// up on: they count as failed, with an error.
    static func result(check: MediaProbe.Check, sessions: [Session], seconds: Double, overdue: Int = 0, limit: Double = 0) -> ProbeResult {
        var stats = MediaStats()
        stats.clients = sessions.count + overdue
        stats.failedClients = overdue
        var deviations: [Double] = []
        var failures = [MediaFailure](
            repeating: MediaFailure(
                .error, "the RTSP exchange did not finish within \(ProbeCheck.format(limit))s; the probe stopped waiting for it"),
            count: overdue)
        var oneWay = 0
        for session in sessions {
            if let failure = session.failure {
                failures.append(failure)
                stats.failedClients += 1
                continue
            }
            let packets = session.stats.packets
            if let lost = session.lost, packets == 0 {
                // The server hung up after PLAY and sent nothing: its doing, not the firewall's.
                failures.append(MediaFailure(.openWrongProtocol, "the server \(lost) the RTSP connection after PLAY"))
                stats.failedClients += 1
                continue
            }
            let blockedBack = packets > 0 && session.punchesReceived == 0
            if blockedBack { oneWay += 1 }
            if packets == 0 || session.lost != nil || blockedBack { stats.failedClients += 1 }
            stats.packets += packets
            stats.expected += session.stats.expected
            stats.jitter = max(stats.jitter, session.stats.jitter * 1000)
            deviations += session.stats.deviations
            if let received = session.punchesReceived { stats.punchesReceived = (stats.punchesReceived ?? 0) + received }
            if let received = session.serverReceived { stats.serverReceived = (stats.serverReceived ?? 0) + received }
            if !session.serverPorts.isEmpty, !stats.serverPorts.contains(session.serverPorts) {
                stats.serverPorts.append(session.serverPorts)
            }
        }
        deviations.sort()
        if !deviations.isEmpty { stats.jitterP99 = deviations[min(deviations.count - 1, Int(Double(deviations.count) * 0.99))] }
        let service: Service = check.transport == .http ? .rtspHTTP : .rtsp
        let target = ProbeTarget(
            transport: .tcp, port: check.port, service: service, labels: check.labels, range: "\(check.port)/tcp", media: check.transport)
        let verdict: ProbeResult.Verdict
        var detail: String
        let clients = stats.clients
        let many = clients > 1 ? "\(clients) clients, " : ""
        let serverPorts = stats.serverPorts.isEmpty ? "the media range" : stats.serverPorts.map { "udp/\($0)" }.joined(separator: ", ")
        let withPackets = sessions.filter { $0.failure == nil && $0.stats.packets > 0 }.count
        if failures.count == clients, let first = failures.first {
            verdict = first.verdict
            detail = "RTSP failed: \(first.detail)"
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
            detail =
                "media ok (\(many)\(stats.packets) packets, loss \(twoDecimals(stats.lossPercent))%, jitter \(twoDecimals(clients > 1 ? stats.jitterP99 : stats.jitter)) ms"
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
