/// Answers plain HTTP: a small status page at `/`, a test resource at `/streamd/test`, and 404/405 otherwise.
public enum HTTPResponder {
    public static let server = "streamd/0.1"
    public static let testResource = Array("streamd test resource: if you can read this, the path through the firewall works\n".utf8)

    public static func respond(to head: RequestHead, listener: String) -> Response {
        var headers: [(String, String)] = [("Server", server), ("Connection", "close")]
        guard head.method == "GET" || head.method == "HEAD" else {
            headers.append(("Allow", "GET, HEAD"))
            return Response(version: "HTTP/1.0", status: 405, reason: "Method Not Allowed", headers: headers + [("Content-Length", "0")])
        }
        let path = head.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let body: [UInt8]
        let type: String
        switch path {
        case "/", "/index.html":
            body = Array(statusPage(listener: listener).utf8)
            type = "text/html; charset=utf-8"
        case "/streamd/test", "/test", "/test.txt":
            body = testResource
            type = "text/plain; charset=utf-8"
        default:
            let text = Array("not found: streamd serves / and /streamd/test\n".utf8)
            return Response(
                version: "HTTP/1.0", status: 404, reason: "Not Found",
                headers: headers + [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", String(text.count))],
                body: head.method == "HEAD" ? [] : text)
        }
        headers += [("Content-Type", type), ("Content-Length", String(body.count))]
        return Response(version: "HTTP/1.0", status: 200, reason: "OK", headers: headers, body: head.method == "HEAD" ? [] : body)
    }

    public static func badRequest() -> Response {
        Response(version: "HTTP/1.0", status: 400, reason: "Bad Request", headers: [("Server", server), ("Connection", "close"), ("Content-Length", "0")])
    }

    public static func statusPage(listener: String) -> String {
        """
        <!doctype html>
        <html><head><title>streamd</title></head><body>
        <h1>streamd</h1>
        <p>This is portctl's test server answering on \(escape(listener)). It proves that this port is reachable
        through the firewall; it is not the real streaming server.</p>
        </body></html>

        """
    }

    public static func escape(_ text: String) -> String {
        text.replacingAll("&", with: "&amp;").replacingAll("<", with: "&lt;").replacingAll(">", with: "&gt;")
    }
}

/// Answers ICY (Shoutcast/Icecast): a listener's GET gets `HTTP/1.0 200 OK` with icy-* headers, then
/// the server streams silent MP3 frames at their own pace, as Icecast answers (curl and browsers refuse the bare `ICY 200 OK` status
/// line, which is kept for clients that ask in ICY); a source client's SOURCE or PUT is accepted
/// and its audio discarded.
public enum ICYResponder {
    /// A silent MPEG-1 Layer III frame: 128 kb/s, 44.1 kHz, mono, 417 bytes (research/protocols.md).
    public static let silentFrame: [UInt8] = [0xFF, 0xFB, 0x90, 0xC0] + [UInt8](repeating: 0, count: 413)
    /// Frames sent at once to a new listener (about a second), before the 26.12 ms pace.
    public static let burstFrames = 38

    public enum Answer: Equatable {
        case listener(Response)
        /// Accept the source: send this, then read and discard what follows.
        case source(Response)
        case other(Response)
    }

    public static func respond(to head: RequestHead) -> Answer {
        switch head.method {
        case "GET", "HEAD":
            let headers: [(String, String)] = [
                ("icy-name", "streamd test stream"), ("icy-genre", "test"), ("icy-br", "128"), ("icy-pub", "0"),
                ("Content-Type", "audio/mpeg"), ("Server", "streamd/0.1"),
            ]
            // No body here: the server streams paced frames after the head until the listener leaves.
            return .listener(Response(version: head.version.hasPrefix("ICY") ? "ICY" : "HTTP/1.0", status: 200, reason: "OK", headers: headers))
        case "SOURCE":
            return .source(Response(version: "HTTP/1.0", status: 200, reason: "OK", headers: [("Server", "streamd/0.1")]))
        case "PUT":
            if head.header("Expect")?.lowercased() == "100-continue" {
                return .source(Response(version: "HTTP/1.1", status: 100, reason: "Continue"))
            }
            return .source(Response(version: "HTTP/1.1", status: 200, reason: "OK", headers: [("Server", "streamd/0.1")]))
        default:
            return .other(Response(
                version: "HTTP/1.0", status: 405, reason: "Method Not Allowed",
                headers: [("Allow", "GET, HEAD, SOURCE, PUT"), ("Content-Length", "0")]))
        }
    }
}

/// Answers MMS over HTTP (MMSH) the way Windows Media Services did, which players and nmap
/// recognise: a describe request gets the ASF header of the test stream in a `$H` chunk; a play
/// request (`Pragma: xPlayStrm=1`) gets the header again, after which the server streams `$D`
/// chunks of ASF data packets.
public enum MMSResponder {
    static let headers: [(String, String)] = [
        ("Server", "Cougar/9.01.01.3814"), ("Cache-Control", "no-cache"),
        ("Supported", "com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, com.microsoft.wm.predstrm"),
    ]

    /// Whether a GET asks to play (the second request of an MMSH session) rather than to describe.
    public static func isPlayRequest(_ head: RequestHead) -> Bool {
        head.method == "GET" && head.headers.contains { $0.0.lowercased() == "pragma" && $0.1.lowercased().contains("xplaystrm=1") }
    }

    public static func respond(to head: RequestHead) -> Response {
        guard head.method == "GET" || head.method == "POST" else {
            return Response(version: "HTTP/1.0", status: 405, reason: "Method Not Allowed", headers: [("Content-Length", "0")])
        }
        let body = chunk("H", sequence: 0, body: ASF.header())
        return Response(
            version: "HTTP/1.0", status: 200, reason: "OK",
            headers: headers + [
                ("Content-Type", "application/vnd.ms.wms-hdr.asfv1"), ("Pragma", "no-cache,client-id=1,features=\"broadcast\""),
                ("Content-Length", String(body.count)), ("Connection", "close"),
            ],
            body: head.method == "GET" ? body : [])
    }

    /// The head of a play answer and the header chunk; the data chunks follow from the media pump.
    public static func playResponse() -> Response {
        Response(
            version: "HTTP/1.0", status: 200, reason: "OK",
            headers: headers + [
                ("Content-Type", "application/x-mms-framed"), ("Pragma", "no-cache,client-id=1,features=\"broadcast\""),
                ("Connection", "close"),
            ],
            body: chunk("H", sequence: 0, body: ASF.header()))
    }

    /// MMST (binary, little-endian): 0xB00BFACE at offset 4 and "MMS " at 12 mark it.
    public static func isMMST(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 16 && Array(bytes[4..<8]) == [0xCE, 0xFA, 0x0B, 0xB0] && Array(bytes[12..<16]) == Array("MMS ".utf8)
    }

    /// A minimal MMST reply in the same framing, so a binary client sees an MMS server answer.
    public static func mmstReply() -> [UInt8] {
        var packet: [UInt8] = [1, 0, 0, 0, 0xCE, 0xFA, 0x0B, 0xB0]
        let body: [UInt8] = Array("MMS ".utf8) + [UInt8](repeating: 0, count: 20) + [0x01, 0x00, 0x04, 0x00] + [UInt8](repeating: 0, count: 8)
        let length = UInt32(body.count)
        packet += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
        return packet + body
    }
}

extension String {
    public func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
