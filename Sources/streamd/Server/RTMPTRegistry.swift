import NIOConcurrencyHelpers
import StreamWire

/// RTMPT sessions: an RTMP session per tunnel id, with the bytes waiting for the next poll.
final class RTMPTRegistry: Sendable {
    private let sessions = NIOLockedValueBox<[String: (session: RTMPSession, pending: [UInt8])]>([:])
    private let next = NIOLockedValueBox(1)
    static let maxSessions = 10_000

    func open() -> String? {
        let id = next.withLockedValue { value -> Int in
            defer { value += 1 }
            return value
        }
        let name = String(id)
        return sessions.withLockedValue { table in
            guard table.count < Self.maxSessions else { return nil }
            table[name] = (RTMPSession(), [])
            return name
        }
    }

    /// Feeds bytes to a session and returns what is pending for the client; nil for an unknown id.
    func exchange(_ id: String, _ bytes: [UInt8]) -> [UInt8]? {
        sessions.withLockedValue { table in
            guard var entry = table[id] else { return nil }
            entry.pending += entry.session.receive(bytes)
            let out = entry.pending
            entry.pending = []
            table[id] = entry
            return out
        }
    }

    func close(_ id: String) { sessions.withLockedValue { _ = $0.removeValue(forKey: id) } }
}
