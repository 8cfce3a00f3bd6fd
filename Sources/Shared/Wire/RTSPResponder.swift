/// Answers RTSP requests (RFC 2326): OPTIONS, DESCRIBE with a valid SDP, GET_PARAMETER, and, when a
/// media host is given, SETUP, PLAY, PAUSE and TEARDOWN of the test stream.
///
/// Every reply echoes CSeq when the request had one (nmap's probe has none). Methods streamd does
/// not serve get 501; malformed requests get 400.
public enum RTSPResponder {
    public static let publicMethods = "OPTIONS, DESCRIBE, GET_PARAMETER"

    public static func respond(to head: RequestHead, host: String, port: Int, media: RTSPMediaHost? = nil) -> Response {
        let methods = media == nil ? publicMethods : streamingMethods
        var headers: [(String, String)] = []
        if let cseq = head.header("CSeq") { headers.append(("CSeq", cseq)) }
        headers.append(("Server", ServerHeader.streamd))
        guard head.version == "RTSP/1.0" || head.version == "RTSP/2.0" else {
            return Response(version: "RTSP/1.0", status: 505, reason: "RTSP Version Not Supported", headers: headers)
        }
        if let media, let response = respondStreaming(to: head, host: host, port: port, media: media, headers: headers) {
            return response
        }
        switch head.method {
        case "OPTIONS":
            headers.append(("Public", methods))
            return Response(version: "RTSP/1.0", status: 200, reason: "OK", headers: headers)
        case "DESCRIBE":
            let sdp = Array(sessionDescription(host: host).utf8)
            headers += [
                ("Content-Base", contentBase(head.target, host: host, port: port)), ("Content-Type", "application/sdp"),
                ("Content-Length", String(sdp.count)),
            ]
            return Response(version: "RTSP/1.0", status: 200, reason: "OK", headers: headers, body: sdp)
        case "GET_PARAMETER":
            if let session = head.header("Session") { headers.append(("Session", session)) }
            return Response(version: "RTSP/1.0", status: 200, reason: "OK", headers: headers)
        default:
            headers.append(("Public", methods))
            return Response(version: "RTSP/1.0", status: 501, reason: "Not Implemented", headers: headers)
        }
    }

    public static func badRequest(cseq: String?) -> Response {
        var headers: [(String, String)] = []
        if let cseq { headers.append(("CSeq", cseq)) }
        headers.append(("Server", ServerHeader.streamd))
        return Response(version: "RTSP/1.0", status: 400, reason: "Bad Request", headers: headers)
    }

    /// A G.711 µ-law audio track, as ffprobe accepts it (research/protocols.md). The origin names
    /// the address the request reached in its own family: an IPv4 client's on the dual-stack
    /// socket (::ffff:a.b.c.d) is IPv4.
    public static func sessionDescription(host: String) -> String {
        let address = unmapped(host)
        let family = address.contains(":") ? "IP6" : "IP4"
        return [
            "v=0", "o=- 0 0 IN \(family) \(address)", "s=streamd test stream", "c=IN IP4 0.0.0.0", "t=0 0", "a=control:*",
            "m=audio 0 RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=control:trackID=0",
        ].joined(separator: "\r\n") + "\r\n"
    }

    /// The request URL with a trailing slash: the client's own absolute URL, or the path under the
    /// address and port the request reached.
    public static func contentBase(_ target: String, host: String, port: Int) -> String {
        let url = absoluteURL(target == "*" ? "/" : target, host: host, port: port)
        return url.hasSuffix("/") ? url : url + "/"
    }

    /// A request URL made absolute: an `rtsp://` URL as the client sent it; a path (with or without
    /// its leading slash) under `host` and `port`.
    public static func absoluteURL(_ target: String, host: String, port: Int) -> String {
        if target.hasPrefix("rtsp://") { return target }
        return "rtsp://\(urlHost(host)):\(port)\(target.hasPrefix("/") ? target : "/" + target)"
    }

    /// A host as a URL names it: an IPv6 address in brackets, its zone's `%` escaped (RFC 3986,
    /// RFC 6874); an IPv4 address as a dual-stack socket reports it (::ffff:a.b.c.d) unmapped.
    public static func urlHost(_ host: String) -> String {
        let address = unmapped(host)
        guard address.contains(":") else { return address }
        return "[" + address.split(separator: "%", omittingEmptySubsequences: false).joined(separator: "%25") + "]"
    }

    /// An IPv4-mapped IPv6 address in its dotted form (::ffff:192.0.2.1) as the IPv4 address; any
    /// other text as it is.
    public static func unmapped(_ host: String) -> String {
        guard host.count > 7, host.prefix(7).lowercased() == "::ffff:" else { return host }
        let rest = host.dropFirst(7)
        guard rest.contains("."), !rest.contains(":") else { return host }
        return String(rest)
    }
}
