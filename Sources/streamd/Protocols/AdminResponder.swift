import PortModel
import StreamWire

/// The admin port's status page: every listener, whether it bound, and what it answered.
/// JSON when the client asks for it with `Accept: application/json`; Prometheus metrics at /metrics.
enum AdminResponder {
    static func respond(to head: RequestHead, counters: Counters) -> Response {
        guard head.method == "GET" || head.method == "HEAD" else {
            return Response(
                version: "HTTP/1.0", status: 405, reason: "Method Not Allowed", headers: [("Allow", "GET, HEAD"), ("Content-Length", "0")])
        }
        let wantsJSON = head.header("Accept")?.contains("application/json") ?? false
        let path = head.target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.target
        let body: [UInt8]
        let type: String
        if path == "/metrics" {
            body = Array(StreamdMetrics.render(counters).utf8)
            type = StreamdMetrics.contentType
        } else if wantsJSON {
            body = Array(json(counters).pretty.utf8)
            type = "application/json"
        } else {
            body = Array(html(counters).utf8)
            type = "text/html; charset=utf-8"
        }
        return Response(
            version: "HTTP/1.0", status: 200, reason: "OK",
            headers: [
                ("Server", ServerHeader.streamd), ("Content-Type", type), ("Content-Length", String(body.count)), ("Connection", "close"),
            ],
            body: head.method == "HEAD" ? [] : body)
    }

    static func json(_ counters: Counters) -> JSONValue {
        .object([
            ("server", .string("streamd")),
            ("open_connections", .int(counters.openConnections)),
            (
                "listeners",
                .array(
                    counters.listeners.map { listener in
                        .object([
                            ("name", .string(listener.name)), ("transport", .string(listener.transport.rawValue)),
                            ("ports", .string(listener.ports)),
                            ("service", .string(listener.service.rawValue)), ("openings", .array(listener.labels.map { .string($0) })),
                            ("bound", .bool(listener.bound)), ("error", listener.error.map { .string($0) } ?? .null),
                            ("requests", .int(listener.requests)), ("knocks", .int(listener.knocks)), ("dropped", .int(listener.dropped)),
                            ("send_errors", .int(listener.sendErrors)),
                            ("last_send_error", listener.lastSendError.map { .string($0) } ?? .null),
                        ])
                    })
            ),
        ])
    }

    static func html(_ counters: Counters) -> String {
        var rows = ""
        for listener in counters.listeners {
            let state = listener.bound ? "bound" : "failed: " + HTTPResponder.escape(listener.error ?? "")
            rows += "<tr><td>\(listener.ports)/\(listener.transport.rawValue)</td><td>\(listener.service.rawValue)</td><td>\(state)</td>"
            rows += "<td>\(listener.requests)</td><td>\(listener.knocks)</td><td>\(listener.sendErrors)</td>"
            rows += "<td>\(HTTPResponder.escape(listener.labels.joined(separator: ", ")))</td></tr>\n"
        }
        return """
            <!doctype html>
            <html><head><title>streamd status</title></head><body>
            <h1>streamd</h1>
            <table><tr><th>port</th><th>service</th><th>state</th><th>requests</th><th>knocks</th><th>send errors</th><th>openings</th></tr>
            \(rows)</table>
            </body></html>

            """
    }
}
