import NIOConcurrencyHelpers
import PortModel

/// What streamd has bound and answered, for the admin page and the logs; safe from every event loop.
final class Counters: Sendable {
    struct Listener: Sendable {
        let name: String
        let transport: Transport
        let ports: String
        let service: Service
        let labels: [String]
        var bound: Bool
        var error: String?
        var requests = 0
        /// TCP connections accepted (and not refused by --max-connections).
        var connections = 0
        /// Bytes written to its TCP connections, TLS records included.
        var bytesSent = 0
        var knocks = 0
        var dropped = 0
        /// Datagrams (knock replies, RTP, RTCP) the kernel refused to send; each was dropped, and the socket stays open.
        var sendErrors = 0
        /// Why the last one could not be sent, and to whom.
        var lastSendError: String?
    }

    private let state = NIOLockedValueBox<[String: Listener]>([:])
    private let order = NIOLockedValueBox<[String]>([])
    private let open = NIOLockedValueBox(0)
    private let sessionCounts = NIOLockedValueBox<[String: Int]>([:])
    private let udpBytes = NIOLockedValueBox(0)

    /// Counts a media session started, by protocol (`rtsp`, `rtmp`, `icy`, `mmsh`).
    func countSession(_ kind: String) { sessionCounts.withLockedValue { $0[kind, default: 0] += 1 } }
    var sessions: [String: Int] { sessionCounts.withLockedValue { $0 } }

    /// Counts bytes sent in UDP datagrams: knock replies, RTP and RTCP.
    func countUDPBytes(_ count: Int) { udpBytes.withLockedValue { $0 += count } }
    var udpBytesSent: Int { udpBytes.withLockedValue { $0 } }

    func register(_ listener: Listener) {
        state.withLockedValue { $0[listener.name] = listener }
        order.withLockedValue { if !$0.contains(listener.name) { $0.append(listener.name) } }
    }

    func update(_ name: String, _ change: @Sendable (inout Listener) -> Void) {
        state.withLockedValue { table in
            if var listener = table[name] {
                change(&listener)
                table[name] = listener
            }
        }
    }

    var listeners: [Listener] {
        let names = order.withLockedValue { $0 }
        return state.withLockedValue { table in names.compactMap { table[$0] } }
    }

    /// Counts a new connection; false when the cap is reached and the connection must be refused.
    func openConnection(cap: Int) -> Bool {
        open.withLockedValue { count in
            guard count < cap else { return false }
            count += 1
            return true
        }
    }

    func closeConnection() { open.withLockedValue { $0 -= 1 } }
    var openConnections: Int { open.withLockedValue { $0 } }
}
