/// The messages streamd's RTMP session writes, in format-0 chunks: connect's replies, commands
/// and onStatus, and the test stream's audio.
extension RTMPSession {
    /// Window Acknowledgement Size, Set Peer Bandwidth, then `_result`.
    public static func connectReply(transaction: Double) -> [UInt8] {
        let windowAck = chunk(csid: 2, type: 5, stream: 0, payload: [0x00, 0x26, 0x25, 0xA0])
        let peerBandwidth = chunk(csid: 2, type: 6, stream: 0, payload: [0x00, 0x26, 0x25, 0xA0, 0x02])
        let result = command(
            [
                .string("_result"), .number(transaction),
                .object([("fmsVer", .string("FMS/3,0,1,123")), ("capabilities", .number(31))]),
                .object([
                    ("level", .string("status")), ("code", .string("NetConnection.Connect.Success")),
                    ("description", .string("Connection succeeded.")), ("objectEncoding", .number(0)),
                ]),
            ], stream: 0)
        return windowAck + peerBandwidth + result
    }

    public static func command(_ values: [AMF0], stream: UInt32, chunkSize: Int = 128) -> [UInt8] {
        chunk(csid: 3, type: 20, stream: stream, payload: values.flatMap(\.encoded), chunkSize: chunkSize)
    }

    public static func onStatus(_ level: String, _ code: String, _ description: String, stream: UInt32, chunkSize: Int = 128) -> [UInt8] {
        command(
            [
                .string("onStatus"), .number(0), .null,
                .object([
                    ("level", .string(level)), ("code", .string(code)), ("description", .string(description)),
                ]),
            ], stream: stream, chunkSize: chunkSize)
    }

    /// Set Chunk Size 4096, User Control StreamBegin, then onStatus NetStream.Play.Start: after
    /// it, ffmpeg reads the audio messages (research/protocols.md).
    public static func playReply(stream: UInt32) -> [UInt8] {
        let size = UInt32(outChunkSize)
        let setChunkSize = chunk(csid: 2, type: 1, stream: 0, payload: bigEndian(size))
        let streamBegin = chunk(csid: 2, type: 4, stream: 0, payload: [0x00, 0x00] + bigEndian(stream))
        let start = onStatus(
            "status", "NetStream.Play.Start", "Started playing the streamd test stream.", stream: stream, chunkSize: outChunkSize)
        return setChunkSize + streamBegin + start
    }

    /// The FLV audio tag byte for G.711 µ-law, 8 kHz, 16-bit, mono: format 8 in the high nibble.
    public static let flvMuLaw: UInt8 = 0x82

    /// One audio message (type 8) of the test stream: the FLV tag byte and 20 ms of µ-law, at an
    /// absolute timestamp in milliseconds (extended past 0xFFFFFF).
    public static func audioMessage(timestamp: UInt32, samples: [UInt8], stream: UInt32) -> [UInt8] {
        let payload = [flvMuLaw] + samples
        let length = payload.count
        let stamp = min(timestamp, 0xFFFFFF)
        var out: [UInt8] = [0x04, UInt8(stamp >> 16), UInt8((stamp >> 8) & 0xFF), UInt8(stamp & 0xFF)]
        out += [UInt8(length >> 16), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF), 8]
        out += withUnsafeBytes(of: stream.littleEndian) { Array($0) }
        if stamp == 0xFFFFFF { out += bigEndian(timestamp) }
        return out + payload
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// A message in format-0 chunks (128 bytes each unless a larger size was announced).
    public static func chunk(csid: UInt8, type: UInt8, stream: UInt32, payload: [UInt8], chunkSize: Int = 128) -> [UInt8] {
        let length = payload.count
        var out: [UInt8] = [csid & 0x3F, 0, 0, 0, UInt8(length >> 16), UInt8((length >> 8) & 0xFF), UInt8(length & 0xFF), type]
        out += withUnsafeBytes(of: stream.littleEndian) { Array($0) }
        var offset = 0
        while offset < payload.count {
            if offset > 0 { out.append(0xC0 | (csid & 0x3F)) }
            let end = min(offset + chunkSize, payload.count)
            out += payload[offset..<end]
            offset = end
        }
        return out
    }
}
