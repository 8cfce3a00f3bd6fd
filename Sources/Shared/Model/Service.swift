/// What answers on an opening: the protocol that streamd speaks there and the probe checks.
public enum Service: String, Sendable, Hashable, Codable, CaseIterable {
    /// RTSP control connections (RFC 2326); also RTSPU on UDP.
    case rtsp
    /// RTSP and media tunnelled over HTTP (the QuickTime tunnel), plus plain HTTP.
    case rtspHTTP = "rtsp-http"
    /// Plain HTTP: progressive download, HLS, DASH, HDS, APIs.
    case http
    /// HTTP over TLS.
    case https
    /// RTMP, and RTMPE, which uses the same port and handshake framing.
    case rtmp
    /// RTMP tunnelled over HTTP (RTMPT, RTMPTE).
    case rtmpt
    /// RTMP over TLS.
    case rtmps
    /// Shoutcast / Icecast listeners and source clients (ICY over HTTP).
    case icy
    /// Microsoft Media Services: MMST on TCP, MMSU on UDP, MMSH over HTTP.
    case mms
    /// RealAudio Progressive Networks Audio.
    case pna
    /// A web administration page.
    case admin
    /// RTP/RTCP media.
    case rtp
    /// Live streams pushed to the server by encoders (UDP).
    case broadcast
    /// SRT (Secure Reliable Transport) over UDP.
    case srt
    /// WebRTC: ICE/DTLS/SRTP over UDP, or its signalling.
    case webrtc
    /// Something portctl does not speak; only reachability is checked.
    case other

    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
