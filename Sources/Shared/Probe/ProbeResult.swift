import FoundationEssentials

/// What a probe found on one port.
public struct ProbeResult: Sendable {
    public enum Verdict: String, Sendable {
        case ok
        case openWrongProtocol = "open-wrong-protocol"
        case closed
        case filtered
        /// UDP, silent, on a host that rate-limits its ICMP unreachables: the paced retries ran
        /// out of time (`--icmp-budget`) before this port's turn, so it may be closed rather than filtered.
        case closedOrFiltered = "closed-or-filtered"
        case error
        /// --media: RTSP answered, but no RTP arrived (the half-open firewall).
        case mediaBlocked = "media-blocked"
        /// --media: RTP arrived, but clients failed or more than 5% of packets were lost.
        case mediaDegraded = "media-degraded"
        /// --media over UDP: RTP arrives, but streamd received nothing the player sent (its punch
        /// packets and RTCP receiver reports): the other half of a half-open firewall.
        case mediaOneWay = "media-one-way"
    }

    public let target: ProbeTarget
    public let verdict: Verdict
    /// What answered, or why not: `RTSP/1.0 200 OK`, `open (streamd)`, `refused`, `no answer within 2s`.
    public let detail: String
    public let seconds: Double
    /// What a media check measured.
    public var media: MediaStats? = nil

    package init(target: ProbeTarget, verdict: Verdict, detail: String, seconds: Double, media: MediaStats? = nil) {
        self.target = target
        self.verdict = verdict
        self.detail = detail
        self.seconds = seconds
        self.media = media
    }
}
