import PortModel

/// The admin port's /metrics: streamd's counters in the Prometheus text exposition format 0.0.4,
/// names with the `streamd_` prefix, `_total` on counters, bytes in bytes.
enum StreamdMetrics {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func render(_ counters: Counters) -> String {
        var out = PrometheusText()
        func family(_ name: String, _ kind: PrometheusText.Kind, _ help: String, _ samples: [(labels: [(String, String)], value: Int)]) {
            out.family(name, kind, help, samples.map { ($0.labels, String($0.value)) })
        }
        let listeners = counters.listeners
        func labels(_ listener: Counters.Listener) -> [(String, String)] {
            [("listener", "\(listener.ports)/\(listener.transport.rawValue)"), ("service", listener.service.rawValue)]
        }
        let tcp = listeners.filter { $0.transport == .tcp }
        let udp = listeners.filter { $0.transport == .udp }
        family(
            "streamd_listener_up", .gauge, "1 when the listener is bound, 0 when binding it failed.",
            listeners.map { (labels($0), $0.bound ? 1 : 0) })
        family("streamd_bind_failures", .gauge, "Listeners that could not be bound.", [([], listeners.filter { !$0.bound }.count)])
        family(
            "streamd_connections_total", .counter, "TCP connections accepted, by listener and protocol.",
            tcp.map { (labels($0), $0.connections) })
        family("streamd_open_connections", .gauge, "TCP connections open now.", [([], counters.openConnections)])
        family("streamd_requests_total", .counter, "Requests answered, by listener and protocol.", tcp.map { (labels($0), $0.requests) })
        family(
            "streamd_sessions_total", .counter, "Media sessions started, by protocol (rtsp, rtmp, icy, mmsh).",
            counters.sessions.sorted { $0.key < $1.key }.map { ([("protocol", $0.key)], $0.value) })
        family("streamd_knocks_answered_total", .counter, "UDP knocks answered with a signed reply.", udp.map { (labels($0), $0.knocks) })
        family(
            "streamd_knocks_refused_total", .counter, "UDP knocks refused: bad signature, malformed, or over the rate limit.",
            udp.map { (labels($0), $0.dropped) })
        family(
            "streamd_sent_bytes_total", .counter, "Bytes sent: per TCP listener, and in all UDP datagrams (listener=\"udp\").",
            tcp.map { (labels($0), $0.bytesSent) } + [([("listener", "udp"), ("service", "udp")], counters.udpBytesSent)])
        family(
            "streamd_send_errors_total", .counter, "Datagrams the kernel refused to send, by listener.",
            udp.map { (labels($0), $0.sendErrors) })
        return out.text
    }
}
