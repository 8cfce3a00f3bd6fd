import FoundationEssentials
import NIOCore
import StreamWire

/// Sends every playing session the packets it is due, on one clock.
///
/// One timer ticks every 20 ms on a fixed grid (tick N is due N × 20 ms after the pump started,
/// so the pace never drifts with the time a tick takes). Each tick sends every playing session
/// the packets it is due: RTP with an RTCP sender report every 5 s, RTMP audio messages, or ICY
/// MP3 frames every 26.12 ms. A session more than 5 packets behind skips ahead rather than bursting.
/// A stream connection that cannot take more (not writable) loses that tick's packets, as a live
/// stream would. The registry says which sessions play and when the pump stops.
final class MediaPump: @unchecked Sendable {
    static let tick = TimeAmount.milliseconds(20)
    static let maxCatchUp = 5
    static let reportEvery = 250
    static let icyFrame = 1152.0 / 44100.0
    /// One 20 ms µ-law frame of the 1 kHz tone: 160 samples hold exactly 20 periods, so every frame is the same.
    static let toneFrame: [UInt8] = {
        var tone = ToneGenerator()
        return tone.nextFrame()
    }()

    let loop: EventLoop
    private let allocator = ByteBufferAllocator()
    /// When tick 0 was due; read and written on `loop` only.
    private var origin = NIODeadline.uptimeNanoseconds(0)

    init(loop: EventLoop) { self.loop = loop }

    /// Starts ticking for `registry`, which has just marked the pump running.
    func start(_ registry: MediaRegistry, after tick: Int) {
        loop.execute {
            // The grid carries on from where it stopped, so tick numbers only ever grow and a
            // session's start tick (taken from the last tick) is never far in the future.
            self.origin = self.loop.now - Self.tick * Int64(tick)
            self.schedule(tick: tick + 1, registry)
        }
    }

    private func schedule(tick: Int, _ registry: MediaRegistry) {
        loop.scheduleTask(deadline: origin + Self.tick * Int64(tick)) {
            self.run(tick: tick, registry)
        }
    }

    /// A tick's packets for one stream connection, or for one UDP socket.
    private struct Batch {
        var channel: Channel?
        var socket: UDPSender?
        var datagrams: [(SocketAddress, ByteBuffer)] = []
        var bytes: [ByteBuffer] = []
    }

    private func run(tick scheduled: Int, _ registry: MediaRegistry) {
        let now = loop.now
        // Late ticks are folded into the one that runs: the grid, not the timer, says what is due.
        let tick = max(scheduled, Int((now - origin).nanoseconds / Self.tick.nanoseconds))
        var batches: [ObjectIdentifier: Batch] = [:]
        let wallClock = Date().timeIntervalSince1970 + 2_208_988_800
        let keepRunning = registry.advance(to: tick, now: now) { session in
            produce(session, tick: tick, now: now, wallClock: wallClock, into: &batches)
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
        if keepRunning { schedule(tick: tick + 1, registry) }
    }

    private func produce(
        _ session: MediaSession, tick: Int, now: NIODeadline, wallClock: Double, into batches: inout [ObjectIdentifier: Batch]
    ) {
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
        let toneFrame = Self.toneFrame
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
                    append(
                        channel, bytes: InterleavedFrame.encode(channel: rtcpChannel, packet: senderReport(session, wallClock: wallClock)),
                        into: &batches)
                }
            case .rtmp(let channel, let stream):
                let message = RTMPSession.audioMessage(
                    timestamp: UInt32(truncatingIfNeeded: session.sent * 20), samples: toneFrame, stream: stream)
                append(channel, bytes: message, into: &batches)
            case .icy(let channel):
                append(channel, bytes: ICYResponder.silentFrame, into: &batches)
            case .mmsh(let channel):
                let packet = ASF.dataPacket(
                    objectNumber: session.sent, milliseconds: UInt32(truncatingIfNeeded: session.sent * 20), samples: toneFrame)
                append(
                    channel, bytes: MMSResponder.chunk("D", sequence: UInt32(truncatingIfNeeded: session.sent), body: packet),
                    into: &batches)
            }
            session.sent += 1
        }
    }

    private func senderReport(_ session: MediaSession, wallClock: Double) -> [UInt8] {
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
