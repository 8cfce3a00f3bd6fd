import NIOCore
import StreamWire

/// One media session: where it goes, its RTP state, and how far the pump has sent it. Changed
/// only under the registry's lock.
final class MediaSession {
    let id: String
    /// The connection the session belongs to: it ends when that connection closes.
    let owner: ObjectIdentifier
    /// The packetizer's SSRC, readable without the lock (the packetizer itself changes under it).
    let ssrc: UInt32
    var sink: MediaSink
    var packetizer: RTPPacketizer
    var playing = false
    /// The pump's tick of the first packet since the last PLAY.
    var startTick = 0
    /// Packets due so far, sent or skipped.
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
