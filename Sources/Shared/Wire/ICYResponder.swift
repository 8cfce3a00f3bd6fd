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
                ("Content-Type", "audio/mpeg"), ("Server", ServerHeader.streamd),
            ]
            // No body here: the server streams paced frames after the head until the listener leaves.
            return .listener(
                Response(version: head.version.hasPrefix("ICY") ? "ICY" : "HTTP/1.0", status: 200, reason: "OK", headers: headers))
        case "SOURCE":
            return .source(Response(version: "HTTP/1.0", status: 200, reason: "OK", headers: [("Server", ServerHeader.streamd)]))
        case "PUT":
            if head.header("Expect")?.lowercased() == "100-continue" {
                return .source(Response(version: "HTTP/1.1", status: 100, reason: "Continue"))
            }
            return .source(Response(version: "HTTP/1.1", status: 200, reason: "OK", headers: [("Server", ServerHeader.streamd)]))
        default:
            return .other(
                Response(
                    version: "HTTP/1.0", status: 405, reason: "Method Not Allowed",
                    headers: [("Allow", "GET, HEAD, SOURCE, PUT"), ("Content-Length", "0")]))
        }
    }
}
