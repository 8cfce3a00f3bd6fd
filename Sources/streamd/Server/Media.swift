import StreamWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Where one session's media goes.
enum MediaSink {
    /// RTP from the server pair's first port, RTCP from its second, to the client's ports. Sent with
    /// the sockets' own `send`, so a client that cannot be reached costs packets, never a socket.
    case udp(rtp: UDPSender, rtcp: UDPSender, to: SocketAddress, rtcpTo: SocketAddress, serverPorts: (Int, Int))
    /// `$`-framed on an RTSP connection, or on the GET side of an RTSP-over-HTTP tunnel.
    case interleaved(Channel, rtp: Int, rtcp: Int)
    /// FLV audio messages on an RTMP connection.
    case rtmp(Channel, stream: UInt32)
    /// MP3 frames on an ICY/HTTP response.
    case icy(Channel)
    /// ASF data packets in MMSH `$D` chunks.
    case mmsh(Channel)

    var streamChannel: Channel? {
        switch self {
        case .udp: return nil
        case .interleaved(let channel, _, _), .rtmp(let channel, _), .icy(let channel), .mmsh(let channel): return channel
        }
    }
}

/// Every media session streamd serves, and the pump that sends their packets on one clock.
///
/// One timer ticks every 20 ms on a fixed grid (tick N is due N × 20 ms after the pump started,
/// so the pace never drifts with the time a tick takes). Each tick sends every playing session
/// the packets it is due: RTP with an RTCP sender report every 5 s, RTMP audio messages, or ICY
/// MP3 frames every 26.12 ms. A session more than 5 packets behind skips ahead rather than bursting.
/// A stream connection that cannot take more (not writable) loses that tick's packets, as a live
/// stream would. Sessions end with TEARDOWN, with their connection, or after 60 s without a request
/// or an RTCP report.
final class MediaRegistry: @unchecked Sendable {
    final class Session {
        let id: String
        let owner: ObjectIdentifier
        /// The packetizer's SSRC, readable without the lock (the packetizer itself changes under it).
        let ssrc: UInt32
        var sink: MediaSink
        var packetizer: RTPPacketizer
        var playing = false
        var startTick = 0
        var sent = 0
        var lastSeen: NIODeadline
        let started: NIODeadline
        /// Datagrams the client sent to a UDP session's server pair (punch packets, RTCP reports).
        var received = 0

        init(id: String, owner: ObjectIdentifier, sink: MediaSink, packetizer: RTPPacketizer, now: NIODeadline) {
            self.id = id
            self.owner = owner
            self.sink = sink
            self.packetizer = packetizer
            self.ssrc = packetizer.ssrc
            self.lastSeen = now
            self.started = now
        }
    }

    struct State {
        var sessions: [String: Session] = [:]
        var tick = 0
        var running = false
        var nextPair = 0
    }

    static let tick = TimeAmount.milliseconds(20)
    static let maxCatchUp = 5
    static let reportEvery = 250
    static let icyFrame = 1152.0 / 44100.0

    let loop: EventLoop
    let maxSessions: Int
    let timeout: TimeAmount
    private let state = NIOLockedValueBox(State())
    private let ports = NIOLockedValueBox<[Int: UDPSender]>([:])
    private let allocator = ByteBufferAllocator()
    /// One 20 ms µ-law frame of the 1 kHz tone: 160 samples hold exactly 20 periods, so every frame is the same.
    let toneFrame: [UInt8]
    private var origin = NIODeadline.uptimeNanoseconds(0)

    init(loop: EventLoop, maxSessions: Int, timeout: Int = RTSPResponder.sessionTimeout) {
        self.loop = loop
        self.maxSessions = maxSessions
        self.timeout = .seconds(Int64(timeout))
        var tone = ToneGenerator()
        toneFrame = tone.nextFrame()
    }

    // MARK: the media range

    /// Records a bound UDP port of the plan's media range (an RTP service), for server pairs.
    func registerMediaPort(_ port: Int, _ socket: UDPSender) { ports.withLockedValue { $0[port] = socket } }

    /// Even ports whose successor is bound too: the server pairs SETUP hands out, in order.
    var pairs: [Int] {
        ports.withLockedValue { table in table.keys.filter { $0 % 2 == 0 && table[$0 + 1] != nil }.sorted() }
    }

    private func socket(_ port: Int) -> UDPSender? { ports.withLockedValue { $0[port] } }

    // MARK: sessions

    var activeSessions: Int { state.withLockedValue { $0.sessions.count } }

    static func newID() -> String {
        String((0..<16).map { _ in "0123456789abcdef".randomElement()! })
    }

    /// Adds a session; nil when --sessions-max is reached.
    func add(owner: ObjectIdentifier, sink: MediaSink, id: String = MediaRegistry.newID(), playing: Bool = false) -> Session? {
        let now = loop.now
        let packetizer = RTPPacketizer(ssrc: UInt32.random(in: 1...UInt32.max), initialSequence: UInt16.random(in: 0...0x7FFF), initialTimestamp: UInt32.random(in: 0...0x7FFF_FFFF))
        let session = Session(id: id, owner: owner, sink: sink, packetizer: packetizer, now: now)
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
        if playing { ensureRunning() }
        return session
    }

    func session(_ id: String) -> Session? { state.withLockedValue { $0.sessions[id] } }

    func hasRoom() -> Bool { state.withLockedValue { $0.sessions.count < maxSessions } }

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
        if next != nil { ensureRunning() }
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

    // MARK: the pump

    private func ensureRunning() {
        let start = state.withLockedValue { state -> Bool in
            guard !state.running else { return false }
            state.running = true
            return true
        }
        guard start else { return }
        loop.execute {
            // The grid carries on from where it stopped, so tick numbers only ever grow and a
            // session's start tick (taken from the last tick) is never far in the future.
            let tick = self.state.withLockedValue { $0.tick }
            self.origin = self.loop.now - Self.tick * Int64(tick)
            self.schedule(tick: tick + 1)
        }
    }

    private func schedule(tick: Int) {
        loop.scheduleTask(deadline: origin + Self.tick * Int64(tick)) {
            self.run(tick: tick)
        }
    }

    /// A tick's packets for one stream connection, or for one UDP socket.
    private struct Batch {
        var channel: Channel?
        var socket: UDPSender?
        var datagrams: [(SocketAddress, ByteBuffer)] = []
        var bytes: [ByteBuffer] = []
    }

    private func run(tick scheduled: Int) {
        let now = loop.now
        // Late ticks are folded into the one that runs: the grid, not the timer, says what is due.
        let tick = max(scheduled, Int((now - origin).nanoseconds / Self.tick.nanoseconds))
        var batches: [ObjectIdentifier: Batch] = [:]
        let wallClock = Date().timeIntervalSince1970 + 2_208_988_800
        let keepRunning = state.withLockedValue { state -> Bool in
            state.tick = tick
            if tick % 50 == 0 {
                let expired = state.sessions.values.filter { if case .udp = $0.sink { return now - $0.lastSeen > timeout } else { return false } }
                for session in expired { state.sessions[session.id] = nil }
            }
            if state.sessions.isEmpty {
                state.running = false
                return false
            }
            for session in state.sessions.values where session.playing {
                produce(session, tick: tick, now: now, wallClock: wallClock, into: &batches)
            }
            return true
        }
        for (_, batch) in batches {
            if let socket = batch.socket {
                // The media range's sockets live on this loop, as `send` requires.
                for (address, datagram) in batch.datagrams { socket.send(datagram, to: address) }
            } else if let channel = batch.channel {
                let bytes = batch.bytes
                channel.eventLoop.execute {
                    for buffer in bytes { channel.write(buffer, promise: nil) }
                    channel.flush()
                }
            }
        }
        if keepRunning { schedule(tick: tick + 1) }
    }

    private func produce(_ session: Session, tick: Int, now: NIODeadline, wallClock: Double, into batches: inout [ObjectIdentifier: Batch]) {
        let due: Int
        var cap = Self.maxCatchUp
        if case .icy = session.sink {
            due = ICYResponder.burstFrames + Int(Double((now - session.started).nanoseconds) / 1e9 / Self.icyFrame)
            // The burst (about a second of frames at once, as Icecast sends a new listener) is not capped.
            if session.sent < ICYResponder.burstFrames { cap = max(cap, due - session.sent) }
        } else {
            due = tick - session.startTick + 1
        }
        if due - session.sent > cap {
            let skipped = due - session.sent - cap
            session.sent = due - cap
            session.packetizer.skip(skipped)
        }
        let count = due - session.sent
        guard count > 0 else { return }
        if let channel = session.sink.streamChannel, !channel.isWritable {
            session.sent += count
            session.packetizer.skip(count)
            return
        }
        for _ in 0..<count {
            switch session.sink {
            case .udp(let rtp, let rtcp, let to, let rtcpTo, _):
                var packet = allocator.buffer(capacity: 12 + toneFrame.count)
                packet.writeBytes(session.packetizer.header(payloadCount: toneFrame.count))
                packet.writeBytes(toneFrame)
                batches[ObjectIdentifier(rtp), default: Batch(socket: rtp)].datagrams.append((to, packet))
                if session.sent % Self.reportEvery == 0 {
                    append(rtcp, datagram: senderReport(session, wallClock: wallClock), to: rtcpTo, into: &batches)
                }
            case .interleaved(let channel, let rtpChannel, let rtcpChannel):
                let packet = session.packetizer.packet(payload: toneFrame)
                append(channel, bytes: InterleavedFrame.encode(channel: rtpChannel, packet: packet), into: &batches)
                if session.sent % Self.reportEvery == 0 {
                    append(channel, bytes: InterleavedFrame.encode(channel: rtcpChannel, packet: senderReport(session, wallClock: wallClock)), into: &batches)
                }
            case .rtmp(let channel, let stream):
                append(channel, bytes: RTMPSession.audioMessage(timestamp: UInt32(truncatingIfNeeded: session.sent * 20), samples: toneFrame, stream: stream), into: &batches)
            case .icy(let channel):
                append(channel, bytes: ICYResponder.silentFrame, into: &batches)
            case .mmsh(let channel):
                let packet = ASF.dataPacket(objectNumber: session.sent, milliseconds: UInt32(truncatingIfNeeded: session.sent * 20), samples: toneFrame)
                append(channel, bytes: MMSResponder.chunk("D", sequence: UInt32(truncatingIfNeeded: session.sent), body: packet), into: &batches)
            }
            session.sent += 1
        }
    }

    private func senderReport(_ session: Session, wallClock: Double) -> [UInt8] {
        let seconds = UInt32(truncatingIfNeeded: Int64(wallClock))
        let fraction = UInt32(truncatingIfNeeded: Int64((wallClock - Double(Int64(wallClock))) * 4_294_967_296))
        return session.packetizer.senderReport(ntpSeconds: seconds, ntpFraction: fraction)
    }

    // In place (`default:` subscript): copying a batch out and back would copy its array each time.
    private func append(_ socket: UDPSender, datagram: [UInt8], to: SocketAddress, into batches: inout [ObjectIdentifier: Batch]) {
        batches[ObjectIdentifier(socket), default: Batch(socket: socket)].datagrams.append((to, allocator.buffer(bytes: datagram)))
    }

    private func append(_ channel: Channel, bytes: [UInt8], into batches: inout [ObjectIdentifier: Batch]) {
        batches[ObjectIdentifier(channel), default: Batch(channel: channel)].bytes.append(allocator.buffer(bytes: bytes))
    }
}

/// The RTSP media host of one connection: SETUP, PLAY, PAUSE and TEARDOWN against the registry.
/// Media goes to `sink` (the RTSP connection, or a tunnel's GET side); UDP goes to `client`'s address.
final class ConnectionMedia: RTSPMediaHost {
    let registry: MediaRegistry
    let sink: Channel
    let client: SocketAddress?

    init(registry: MediaRegistry, sink: Channel, client: SocketAddress?) {
        self.registry = registry
        self.sink = sink
        self.client = client
    }

    func setup(_ offers: [RTSPTransportRequest], session: String?) -> RTSPSetupOutcome {
        if let session, registry.session(session) == nil { return .sessionNotFound }
        var reasons: [String] = []
        for offer in offers {
            let sink: MediaSink
            let reply: (UInt32) -> String
            switch offer {
            case .udp(let rtp, let rtcp):
                guard let client, let pair = registry.nextPair() else {
                    reasons.append("no UDP media range is served (the plan opens none); use RTP/AVP/TCP")
                    continue
                }
                guard let to = Self.address(client, port: rtp, for: pair.rtp.channel), let rtcpTo = Self.address(client, port: rtcp, for: pair.rtcp.channel) else {
                    reasons.append("cannot reach the client's address over UDP")
                    continue
                }
                sink = .udp(rtp: pair.rtp, rtcp: pair.rtcp, to: to, rtcpTo: rtcpTo, serverPorts: pair.ports)
                reply = { RTSPResponder.udpTransport(clientRTP: rtp, clientRTCP: rtcp, serverRTP: pair.ports.0, serverRTCP: pair.ports.1, ssrc: $0) }
            case .interleaved(let rtp, let rtcp):
                sink = .interleaved(self.sink, rtp: rtp, rtcp: rtcp)
                reply = { RTSPResponder.interleavedTransport(rtp: rtp, rtcp: rtcp, ssrc: $0) }
            case .unsupported(let why):
                reasons.append(why)
                continue
            }
            if let session, let existing = registry.session(session) {
                registry.setSink(session, sink)
                return .ok(session: session, transport: reply(existing.ssrc))
            }
            guard let created = registry.add(owner: ObjectIdentifier(self.sink), sink: sink) else { return .full(registry.maxSessions) }
            return .ok(session: created.id, transport: reply(created.ssrc))
        }
        return .unsupportedTransport(reasons.isEmpty ? "no transport offered" : reasons.joined(separator: "; "))
    }

    func play(session: String) -> (sequence: UInt16, rtpTime: UInt32)? {
        registry.play(session).map { (sequence: $0.0, rtpTime: $0.1) }
    }

    func pause(session: String) -> Bool { registry.pause(session) }
    func teardown(session: String) -> Bool { registry.remove(session) }
    func touch(session: String) -> Bool { registry.touch(session) }
    func receivedFromClient(session: String) -> Int? { registry.received(session) }

    /// The client's address with another port, in the family of the socket that will send to it
    /// (an IPv4 client reaches a dual-stack listener as ::ffff:a.b.c.d).
    static func address(_ client: SocketAddress, port: Int, for channel: Channel) -> SocketAddress? {
        guard var address = client.ipAddress.flatMap({ try? SocketAddress(ipAddress: $0, port: port) }) else { return nil }
        if case .v4 = channel.localAddress, let text = client.ipAddress, text.hasPrefix("::ffff:") {
            address = (try? SocketAddress(ipAddress: String(text.dropFirst(7)), port: port)) ?? address
        } else if case .v6 = channel.localAddress, case .v4 = address, let text = client.ipAddress {
            address = (try? SocketAddress(ipAddress: "::ffff:" + text, port: port)) ?? address
        }
        return address
    }
}
