/// Answers plain HTTP: a small status page at `/`, a test resource at `/streamd/test`, and 404/405 otherwise.
public enum HTTPResponder {
    public static let testResource = Array("streamd test resource: if you can read this, the path through the firewall works\n".utf8)

    public static func respond(to head: RequestHead, listener: String) -> Response {
        var headers: [(String, String)] = [("Server", ServerHeader.streamd), ("Connection", "close")]
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
        Response(
            version: "HTTP/1.0", status: 400, reason: "Bad Request",
            headers: [("Server", ServerHeader.streamd), ("Connection", "close"), ("Content-Length", "0")])
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

extension String {
    /// Every occurrence of `target` replaced, left to right and without overlaps; an empty target
    /// changes nothing. (Without Foundation: StreamWire has no dependencies.)
    public func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = Substring(self)
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
