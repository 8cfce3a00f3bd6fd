/// The lower transport a client asks for in a SETUP's `Transport` header (RFC 2326 §12.39).
public enum RTSPTransportRequest: Equatable, Sendable {
    /// RTP and RTCP to these client ports over UDP.
    case udp(rtp: Int, rtcp: Int)
    /// RTP and RTCP `$`-framed on the RTSP connection, on these channels.
    case interleaved(rtp: Int, rtcp: Int)
    /// Something streamd does not send (multicast, RTP/SAVP, a missing client_port): why.
    case unsupported(String)

    /// The alternatives a client offers, in its order of preference (comma-separated).
    public static func parse(_ header: String) -> [RTSPTransportRequest] {
        header.split(separator: ",").prefix(8).map { parseOne(String($0)) }
    }

    static func parseOne(_ text: String) -> RTSPTransportRequest {
        let fields = text.split(separator: ";").map { $0.trimmingSpaces() }
        guard let spec = fields.first?.uppercased() else { return .unsupported("empty transport") }
        guard spec == "RTP/AVP" || spec == "RTP/AVP/UDP" || spec == "RTP/AVP/TCP" else {
            return .unsupported("transport \(spec) (streamd sends RTP/AVP over UDP or TCP)")
        }
        if fields.contains(where: { $0.lowercased() == "multicast" }) { return .unsupported("multicast (streamd sends unicast)") }
        func pair(_ name: String) -> (Int, Int)? {
            guard let field = fields.first(where: { $0.lowercased().hasPrefix(name + "=") }) else { return nil }
            let numbers = field.dropFirst(name.count + 1).split(separator: "-").map { Int($0) }
            guard let first = numbers.first ?? nil, (0...65535).contains(first) else { return nil }
            let second = numbers.count > 1 ? numbers[1] : first + 1
            guard let second, (0...65535).contains(second) else { return nil }
            return (first, second)
        }
        if spec == "RTP/AVP/TCP" {
            let (rtp, rtcp) = pair("interleaved") ?? (0, 1)
            guard rtp <= 255, rtcp <= 255 else { return .unsupported("interleaved channels above 255") }
            return .interleaved(rtp: rtp, rtcp: rtcp)
        }
        guard let (rtp, rtcp) = pair("client_port"), rtp > 0, rtcp > 0 else { return .unsupported("UDP without client_port") }
        return .udp(rtp: rtp, rtcp: rtcp)
    }
}

/// What the server did with a SETUP.
public enum RTSPSetupOutcome: Equatable, Sendable {
    /// Set up: the session id and the one transport to echo.
    case ok(session: String, transport: String)
    /// None of the offered transports can be served (461: ffmpeg then tries the next one).
    case unsupportedTransport(String)
    case sessionNotFound
    /// The --sessions-max cap is reached (453).
    case full(Int)
}

/// The side effects of the RTSP methods that stream: the server (streamd) implements them, the
/// protocol logic here only formats the answers, so both are tested apart.
public protocol RTSPMediaHost: AnyObject {
    func setup(_ offers: [RTSPTransportRequest], session: String?) -> RTSPSetupOutcome
    /// Starts or resumes sending; the sequence number and RTP time of the next packet.
    func play(session: String) -> (sequence: UInt16, rtpTime: UInt32)?
    func pause(session: String) -> Bool
    func teardown(session: String) -> Bool
    /// Keeps a session alive; false when there is no such session.
    func touch(session: String) -> Bool
    /// The RTP/RTCP datagrams a UDP session's client sent to the server's pair; nil when the
    /// session is not UDP (or unknown). Reported as `X-Streamd-RTCP: received=N`.
    func receivedFromClient(session: String) -> Int?
}

extension RTSPMediaHost {
    public func receivedFromClient(session: String) -> Int? { nil }
}

extension RTSPResponder {
    /// Seconds a session lives without a request or an RTCP report (advertised as `timeout=`).
    public static let sessionTimeout = 60
    public static let streamingMethods = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER"

    /// SETUP, PLAY, PAUSE, TEARDOWN and a session's GET_PARAMETER, with `media` doing the work.
    static func respondStreaming(
        to head: RequestHead, host: String, port: Int, media: RTSPMediaHost, headers base: [(String, String)]
    ) -> Response? {
        var headers = base
        let sessionID = head.header("Session").map { String($0.split(separator: ";").first ?? "").trimmingSpaces() }
        func reply(_ status: Int, _ reason: String) -> Response {
            Response(version: "RTSP/1.0", status: status, reason: reason, headers: headers)
        }
        func sessionHeader(_ id: String) -> (String, String) { ("Session", "\(id);timeout=\(sessionTimeout)") }
        // What a UDP player sent (punch packets, RTCP receiver reports) reached us: the probe's
        // proof that the media range is open inbound, not only outbound.
        func receivedHeader(_ count: Int) -> (String, String) { ("X-Streamd-RTCP", "received=\(count)") }
        switch head.method {
        case "SETUP":
            guard let transport = head.header("Transport") else { return reply(461, "Unsupported Transport") }
            switch media.setup(RTSPTransportRequest.parse(transport), session: sessionID) {
            case .ok(let session, let chosen):
                headers += [("Transport", chosen), sessionHeader(session), ("Cache-Control", "no-cache")]
                return reply(200, "OK")
            case .unsupportedTransport(let why):
                headers.append(("X-Streamd-Reason", why))
                return reply(461, "Unsupported Transport")
            case .sessionNotFound:
                return reply(454, "Session Not Found")
            case .full(let cap):
                headers.append(("X-Streamd-Reason", "--sessions-max \(cap) reached"))
                return reply(453, "Not Enough Bandwidth")
            }
        case "PLAY":
            guard let sessionID, let next = media.play(session: sessionID) else { return reply(454, "Session Not Found") }
            let base = contentBase(head.target, host: host, port: port)
            let track = head.target.hasSuffix("trackID=0") ? absoluteURL(head.target, host: host, port: port) : base + "trackID=0"
            headers += [
                sessionHeader(sessionID), ("Range", "npt=0.000-"),
                ("RTP-Info", "url=\(track);seq=\(next.sequence);rtptime=\(next.rtpTime)"),
            ]
            return reply(200, "OK")
        case "PAUSE":
            guard let sessionID, media.pause(session: sessionID) else { return reply(454, "Session Not Found") }
            headers.append(sessionHeader(sessionID))
            return reply(200, "OK")
        case "TEARDOWN":
            let received = sessionID.flatMap { media.receivedFromClient(session: $0) }
            guard let sessionID, media.teardown(session: sessionID) else { return reply(454, "Session Not Found") }
            headers.append(("Session", sessionID))
            if let received { headers.append(receivedHeader(received)) }
            return reply(200, "OK")
        case "GET_PARAMETER", "OPTIONS":
            // Keepalives: a live session is refreshed; an unknown one is not an error for OPTIONS.
            guard let sessionID else { return nil }
            guard media.touch(session: sessionID) else { return head.method == "OPTIONS" ? nil : reply(454, "Session Not Found") }
            if head.method == "OPTIONS" { return nil }
            headers.append(sessionHeader(sessionID))
            if let received = media.receivedFromClient(session: sessionID) { headers.append(receivedHeader(received)) }
            return reply(200, "OK")
        default:
            return nil
        }
    }

    /// The SETUP reply's Transport for UDP: the client's ports and the server pair RTP leaves from.
    public static func udpTransport(clientRTP: Int, clientRTCP: Int, serverRTP: Int, serverRTCP: Int, ssrc: UInt32) -> String {
        "RTP/AVP;unicast;client_port=\(clientRTP)-\(clientRTCP);server_port=\(serverRTP)-\(serverRTCP);ssrc=\(hex(ssrc))"
    }

    public static func interleavedTransport(rtp: Int, rtcp: Int, ssrc: UInt32) -> String {
        "RTP/AVP/TCP;unicast;interleaved=\(rtp)-\(rtcp);ssrc=\(hex(ssrc))"
    }

    static func hex(_ value: UInt32) -> String {
        let digits = Array("0123456789ABCDEF")
        return String((0..<8).reversed().map { digits[Int((value >> (UInt32($0) * 4)) & 0xF)] })
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
