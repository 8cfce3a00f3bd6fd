/// RTP packets for a PCMU stream (RFC 3550, RFC 3551): 20 ms of audio per packet, sequence +1
/// and timestamp +160 each time, the marker bit on the first packet only.
public struct RTPPacketizer: Sendable {
    public static let payloadType: UInt8 = 0
    public static let samplesPerPacket = 160
    public static let packetInterval = 0.020

    public let ssrc: UInt32
    public private(set) var sequence: UInt16
    public private(set) var timestamp: UInt32
    public private(set) var packetsSent: UInt32 = 0
    public private(set) var octetsSent: UInt32 = 0

    public init(ssrc: UInt32, initialSequence: UInt16, initialTimestamp: UInt32) {
        self.ssrc = ssrc
        self.sequence = initialSequence
        self.timestamp = initialTimestamp
    }

    /// Wraps one payload in a 12-byte RTP header and advances sequence and timestamp.
    public mutating func packet(payload: [UInt8]) -> [UInt8] {
        header(payloadCount: payload.count) + payload
    }

    /// The 12-byte header of the next packet, for a payload of this size; advances like `packet`.
    /// The server writes it and the payload straight into its send buffer.
    public mutating func header(payloadCount: Int) -> [UInt8] {
        let marker: UInt8 = packetsSent == 0 ? 0x80 : 0x00
        let header: [UInt8] = [
            0x80, marker | Self.payloadType, UInt8(sequence >> 8), UInt8(sequence & 0xFF),
            UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF),
            UInt8(ssrc >> 24), UInt8((ssrc >> 16) & 0xFF), UInt8((ssrc >> 8) & 0xFF), UInt8(ssrc & 0xFF),
        ]
        sequence &+= 1
        timestamp &+= UInt32(Self.samplesPerPacket)
        packetsSent &+= 1
        octetsSent &+= UInt32(payloadCount)
        return header
    }

    /// Passes over packets that were due but not sent (the sender fell behind): sequence and
    /// timestamp move on as if they had been, so the receiver sees them as lost, not as a pause.
    public mutating func skip(_ count: Int) {
        guard count > 0 else { return }
        sequence &+= UInt16(truncatingIfNeeded: count)
        timestamp &+= UInt32(truncatingIfNeeded: count * Self.samplesPerPacket)
    }

    /// An RTCP sender report (28 bytes): NTP time, the RTP timestamp of that instant, and counts.
    public func senderReport(ntpSeconds: UInt32, ntpFraction: UInt32) -> [UInt8] {
        [0x80, 200, 0x00, 0x06] + bigEndian(ssrc) + bigEndian(ntpSeconds) + bigEndian(ntpFraction) + bigEndian(timestamp)
            + bigEndian(packetsSent) + bigEndian(octetsSent)
    }

    /// When packet `index` is due, in seconds after the first: a fixed 20 ms grid, so the pace
    /// does not drift with the time each send takes.
    public static func dueTime(of index: Int) -> Double { Double(index) * packetInterval }

    func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
