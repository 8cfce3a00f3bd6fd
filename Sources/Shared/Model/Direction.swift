/// Which way the traffic of an opening flows, seen from the server.
///
/// `in`: clients start it towards the server (RTSP requests, encoders pushing).
/// `out`: the server starts it towards clients; a stateful firewall with an open output path needs no rule.
/// `both`: the server sends from these ports and clients send back to them (RTP media with RTCP reports).
public enum Direction: String, Sendable, Hashable, Codable, CaseIterable {
    case `in`
    case out
    case both

    /// True when inbound packets to these ports must be accepted.
    public var needsInboundRule: Bool { self != .out }
}
