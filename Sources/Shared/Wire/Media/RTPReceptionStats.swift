/// What the receiver of one RTP stream measures (RFC 3550 §6.4.1, appendix A.1 and A.8): the
/// packets received, the highest sequence number extended past the 16-bit wrap (so the packets
/// expected, and lost, stay right across it), and the interarrival jitter. The receiving side of
/// `RTPPacketizer`: plain arithmetic on packets and their arrival times, no clock and no sockets.
public struct RTPReceptionStats: Sendable {
    /// |D| values kept for percentiles, at most: a few minutes of one stream.
    public static let maxDeviations = 100_000

    /// The stream's RTP clock in Hz: 8000 for PCMU, what streamd sends.
    public let clockRate: Double
    public private(set) var packets = 0
    /// The first sequence number received.
    public private(set) var firstSequence: Int?
    /// The highest sequence number received, plus 65536 for every wrap.
    public private(set) var highestSequence = 0
    private var cycles = 0
    /// Arrival minus RTP time of the last packet timed, in seconds, up to a constant.
    private var lastTransit: Double?
    /// The interarrival jitter J, in seconds: |D| smoothed with gain 1/16.
    public private(set) var jitter = 0.0
    /// |D|, the transit variation between consecutive packets, in ms: one per packet timed after
    /// the first, for percentiles over many streams.
    public private(set) var deviations: [Double] = []

    public init(clockRate: Double = 8000) {
        self.clockRate = clockRate
    }

    /// The packets from the first sequence number to the highest: received and lost.
    public var expected: Int { firstSequence.map { highestSequence - $0 + 1 } ?? 0 }

    /// Counts one datagram if it is RTP: version 2, and not an RTCP packet type (200-204, which
    /// read as RTP payload types 72-76 with the marker bit). `arrival` is in seconds on a steady clock.
    public mutating func count(_ packet: [UInt8], at arrival: Double) {
        guard packet.count >= 12, packet[0] >> 6 == 2, packet[1] & 0x7F < 72 || packet[1] & 0x7F > 76 else { return }
        let sequence = UInt16(packet[2]) << 8 | UInt16(packet[3])
        let timestamp = UInt32(packet[4]) << 24 | UInt32(packet[5]) << 16 | UInt32(packet[6]) << 8 | UInt32(packet[7])
        packets += 1
        if firstSequence == nil {
            firstSequence = Int(sequence)
            highestSequence = Int(sequence)
        } else {
            // RFC 3550 A.1: the distance from the highest number seen, modulo 2^16. Ahead of it
            // (by less than half the space) the stream moved on, wrapping when the number is lower;
            // behind it, a late or duplicate packet, which extends nothing. Comparing with the
            // highest rather than the last packet keeps a packet reordered across the wrap (65535,
            // 0, 65534) from counting a second cycle.
            let highest = UInt16(truncatingIfNeeded: highestSequence)
            let ahead = sequence &- highest
            if ahead != 0, ahead < 0x8000 {
                if sequence < highest { cycles += 1 }
                highestSequence = cycles * 65536 + Int(sequence)
            }
        }
        let transit = arrival - Double(timestamp) / clockRate
        if let last = lastTransit {
            var difference = abs(transit - last)
            if difference > 3600 { difference = 0 }  // an RTP timestamp wrap, not jitter
            jitter += (difference - jitter) / 16
            if deviations.count < Self.maxDeviations { deviations.append(difference * 1000) }
        }
        lastTransit = transit
    }

    /// Times the next packet afresh, as the first: packets that queued while the receiver was busy
    /// arrive all at once, and their arrival times say nothing about the path.
    public mutating func restartTiming() {
        lastTransit = nil
    }
}
