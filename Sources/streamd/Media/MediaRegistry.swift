import NIOConcurrencyHelpers
import NIOCore
import StreamWire

/// Every media session streamd serves, and the media range's UDP ports they are sent from.
///
/// Sessions end with TEARDOWN, with their connection, or (UDP sessions) after `timeout` without a
/// request or an RTCP report. The pump (`MediaPump`) sends what playing sessions are due; it runs
/// only while there are sessions, and one lock covers the sessions and whether it runs, so that a
/// session added as the pump stops is never left unsent.
final class MediaRegistry: @unchecked Sendable {
    struct State {
        var sessions: [String: MediaSession] = [:]
        /// The pump's last tick: a session that starts playing starts on the next one.
        var tick = 0
        var running = false
        var nextPair = 0
    }

    let loop: EventLoop
    let maxSessions: Int
    /// Where sessions started are counted, by protocol, for /metrics; nil in tests that need none.
    var counters: Counters?
    let timeout: TimeAmount
    let pump: MediaPump
    private let state = NIOLockedValueBox(State())
    private let ports = NIOLockedValueBox<[Int: UDPSender]>([:])

    init(loop: EventLoop, maxSessions: Int, timeout: Int = RTSPResponder.sessionTimeout) {
        self.loop = loop
        self.maxSessions = maxSessions
        self.timeout = .seconds(Int64(timeout))
        self.pump = MediaPump(loop: loop)
    }

    // MARK: the media range

    /// Records a bound UDP port of the plan's media range (an RTP service), for server pairs.
    func registerMediaPort(_ port: Int, _ socket: UDPSender) { ports.withLockedValue { $0[port] = socket } }

    /// Even ports whose successor is bound too: the server pairs SETUP hands out, in order.
    var pairs: [Int] {
        ports.withLockedValue { table in table.keys.filter { $0 % 2 == 0 && table[$0 + 1] != nil }.sorted() }
    }

    private func socket(_ port: Int) -> UDPSender? { ports.withLockedValue { $0[port] } }

    /// The next server pair, round robin: many sessions share a pair, as Darwin Streaming Server's did.
    func nextPair() -> (rtp: UDPSender, rtcp: UDPSender, ports: (Int, Int))? {
        let available = pairs
        guard !available.isEmpty else { return nil }
        let index = state.withLockedValue { state -> Int in
            defer { state.nextPair += 1 }
            return state.nextPair % available.count
        }
        let port = available[index]
        guard let rtp = socket(port), let rtcp = socket(port + 1) else { return nil }
        return (rtp, rtcp, (port, port + 1))
    }

    // MARK: sessions

    var activeSessions: Int { state.withLockedValue { $0.sessions.count } }

    static func newID() -> String {
        String((0..<16).map { _ in "0123456789abcdef".randomElement()! })
    }

    /// Adds a session; nil when --sessions-max is reached.
    func add(owner: ObjectIdentifier, sink: MediaSink, id: String = MediaRegistry.newID(), playing: Bool = false) -> MediaSession? {
        let packetizer = RTPPacketizer(
            ssrc: UInt32.random(in: 1...UInt32.max), initialSequence: UInt16.random(in: 0...0x7FFF),
            initialTimestamp: UInt32.random(in: 0...0x7FFF_FFFF))
        let session = MediaSession(id: id, owner: owner, sink: sink, packetizer: packetizer, now: loop.now)
        let added = state.withLockedValue { state -> Bool in
            guard state.sessions.count < maxSessions else { return false }
            state.sessions[id] = session
            if playing {
                session.playing = true
                session.startTick = state.tick + 1
            }
            return true
        }
        guard added else { return nil }
        counters?.countSession(Self.protocolName(sink))
        if playing { ensurePumping() }
        return session
    }

    func session(_ id: String) -> MediaSession? { state.withLockedValue { $0.sessions[id] } }

    func hasRoom() -> Bool { state.withLockedValue { $0.sessions.count < maxSessions } }

    func setSink(_ id: String, _ sink: MediaSink) { state.withLockedValue { $0.sessions[id]?.sink = sink } }

    /// Starts or resumes a session; the sequence number and RTP time of its next packet.
    func play(_ id: String) -> (UInt16, UInt32)? {
        let next = state.withLockedValue { state -> (UInt16, UInt32)? in
            guard let session = state.sessions[id] else { return nil }
            session.lastSeen = loop.now
            if !session.playing {
                session.playing = true
                session.startTick = state.tick + 1
                session.sent = 0
            }
            return (session.packetizer.sequence, session.packetizer.timestamp)
        }
        if next != nil { ensurePumping() }
        return next
    }

    func pause(_ id: String) -> Bool {
        state.withLockedValue { state in
            guard let session = state.sessions[id] else { return false }
            session.playing = false
            session.lastSeen = loop.now
            return true
        }
    }

    func remove(_ id: String) -> Bool { state.withLockedValue { $0.sessions.removeValue(forKey: id) != nil } }

    func touch(_ id: String) -> Bool {
        state.withLockedValue { state in
            guard let session = state.sessions[id] else { return false }
            session.lastSeen = loop.now
            return true
        }
    }

    /// An RTCP report (or any RTP-looking datagram) from a client keeps its UDP session alive.
    func touch(from address: SocketAddress) {
        state.withLockedValue { state in
            let now = loop.now
            for session in state.sessions.values {
                if case .udp(_, _, let rtp, let rtcp, _) = session.sink, address == rtcp || address == rtp {
                    session.lastSeen = now
                    session.received += 1
                }
            }
        }
    }

    /// What a UDP session's client has sent to its server pair; nil for other sessions.
    func received(_ id: String) -> Int? {
        state.withLockedValue { state in
            guard let session = state.sessions[id], case .udp = session.sink else { return nil }
            return session.received
        }
    }

    func hasSessions(owner: ObjectIdentifier) -> Bool {
        state.withLockedValue { $0.sessions.values.contains { $0.owner == owner } }
    }

    /// Ends every session of a connection that closed.
    func removeAll(owner: ObjectIdentifier) {
        state.withLockedValue { state in
            state.sessions = state.sessions.filter { $0.value.owner != owner }
        }
    }

    // MARK: what the pump asks

    /// Starts the pump unless it runs, from the last tick it reached.
    private func ensurePumping() {
        let tick = state.withLockedValue { state -> Int? in
            guard !state.running else { return nil }
            state.running = true
            return state.tick
        }
        if let tick { pump.start(self, after: tick) }
    }

    /// One tick of the pump, under the lock: expires silent UDP sessions (every 50th tick, once a
    /// second), then hands `send` each playing session. False when no session is left: the pump
    /// has stopped, and the next session to play starts it again.
    func advance(to tick: Int, now: NIODeadline, _ send: (MediaSession) -> Void) -> Bool {
        state.withLockedValue { state -> Bool in
            state.tick = tick
            if tick % 50 == 0 {
                let expired = state.sessions.values.filter { session in
                    if case .udp = session.sink { return now - session.lastSeen > timeout }
                    return false
                }
                for session in expired { state.sessions[session.id] = nil }
            }
            if state.sessions.isEmpty {
                state.running = false
                return false
            }
            for session in state.sessions.values where session.playing { send(session) }
            return true
        }
    }

    /// The protocol a session's sink speaks, as /metrics labels it.
    static func protocolName(_ sink: MediaSink) -> String {
        switch sink {
        case .udp, .interleaved: return "rtsp"
        case .rtmp: return "rtmp"
        case .icy: return "icy"
        case .mmsh: return "mmsh"
        }
    }
}
