/// RTP or RTCP interleaved on an RTSP connection (RFC 2326 §10.12): `$`, a channel byte, the
/// packet's length (16 bits, big-endian), then the packet. Between requests and replies, a client
/// sends its RTCP reports this way and a server its media; streamd, its RTSP-over-HTTP tunnel and
/// the probe all read and write it with this one type.
public struct InterleavedFrame: Equatable, Sendable {
    /// `$`: no request or status line starts with it, so one byte tells a frame from a head.
    public static let marker: UInt8 = 0x24
    public static let headerSize = 4

    public var channel: UInt8
    /// The packet, as a slice of the bytes it was parsed from (their indices, not from 0).
    public var payload: ArraySlice<UInt8>

    public init(channel: UInt8, payload: ArraySlice<UInt8>) {
        self.channel = channel
        self.payload = payload
    }

    /// The bytes the frame takes, its header included.
    public var consumed: Int { Self.headerSize + payload.count }

    /// Whether `bytes` begin with a frame (whole or not yet) rather than with a text head.
    public static func starts(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.first == marker }

    /// The size of the frame at the start of `bytes`, its header included, as soon as the header is
    /// there (a reader that keeps the bytes elsewhere needs no more to skip it); nil before, or
    /// when they do not start with `$`.
    public static func size(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard starts(bytes), bytes.count >= headerSize else { return nil }
        let start = bytes.startIndex
        return headerSize + (Int(bytes[start + 2]) << 8 | Int(bytes[start + 3]))
    }

    /// The whole frame at the start of `bytes`; nil when they do not start with `$`, or when the
    /// frame is not all there yet (`starts` tells the two apart).
    public static func parse(_ bytes: ArraySlice<UInt8>) -> InterleavedFrame? {
        guard let size = size(bytes), bytes.count >= size else { return nil }
        let start = bytes.startIndex
        return InterleavedFrame(channel: bytes[start + 1], payload: bytes[(start + headerSize)..<(start + size)])
    }

    /// A packet framed for an RTSP connection. The channel is taken modulo 256 and the length
    /// modulo 65536, as the one byte and the 16 bits hold them (RTP packets are far smaller).
    public static func encode(channel: Int, packet: [UInt8]) -> [UInt8] {
        [marker, UInt8(channel & 0xFF), UInt8((packet.count >> 8) & 0xFF), UInt8(packet.count & 0xFF)] + packet
    }
}
