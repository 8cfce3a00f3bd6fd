/// A live ASF stream of the test tone, for MMS over HTTP: the header objects a Windows Media
/// player reads first, then one fixed-size data packet per 20 ms of G.711 µ-law audio (WAVE
/// format tag 7). Written from the ASF 1.2 specification; objects streamd does not need
/// (codec list, bitrate properties, indexes) are left out.
public enum ASF {
    /// Every data packet has this size (the file properties' minimum and maximum packet size).
    public static let packetSize = 200
    public static let streamNumber: UInt8 = 1
    public static let samplesPerPacket = 160

    /// A GUID in ASF's byte order: the first three fields little-endian, the rest as written.
    static func guid(_ text: String) -> [UInt8] {
        let hex = Array(text.filter { $0 != "-" })
        let bytes = stride(from: 0, to: 32, by: 2).map { UInt8(String(hex[$0..<$0 + 2]), radix: 16)! }
        return Array(bytes[0..<4].reversed()) + Array(bytes[4..<6].reversed()) + Array(bytes[6..<8].reversed()) + Array(bytes[8..<16])
    }

    static let headerObject = guid("75B22630-668E-11CF-A6D9-00AA0062CE6C")
    static let filePropertiesObject = guid("8CABDCA1-A947-11CF-8EE4-00C00C205365")
    static let streamPropertiesObject = guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365")
    static let headerExtensionObject = guid("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
    static let reserved1 = guid("ABD3D211-A9BA-11CF-8EE6-00C00C205365")
    static let audioMedia = guid("F8699E40-5B4D-11CF-A8FD-00805F5C442B")
    static let noErrorCorrection = guid("20FB5700-5B55-11CF-A8FD-00805F5C442B")
    static let dataObject = guid("75B22636-668E-11CF-A6D9-00AA0062CE6C")
    /// streamd's file id: any GUID, the same in the file properties and the data object.
    static let fileID = guid("5354524D-4541-4D44-8000-00A0C9000001")

    static func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)] }
    static func u32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * UInt32($0))) & 0xFF) } }
    static func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) } }

    /// The header object (file properties, the audio stream's properties, an empty header
    /// extension) followed by the data object's 50-byte head, as MMSH sends them in its `$H` chunk.
    public static func header() -> [UInt8] {
        let fileProperties =
            filePropertiesObject + u64(104) + fileID
            + u64(0) + u64(0) + u64(0)  // file size, creation date, data packets: unknown for a broadcast
            + u64(0) + u64(0) + u64(0)  // play duration, send duration, preroll (ms)
            + u32(0x01)  // flags: broadcast
            + u32(UInt32(packetSize)) + u32(UInt32(packetSize))
            + u32(UInt32(packetSize * 8 * 50))  // maximum bitrate: one packet per 20 ms
        // WAVEFORMATEX: G.711 µ-law (tag 7), mono, 8000 samples/s, 8000 bytes/s, block 1, 8 bits.
        let waveFormat = u16(7) + u16(1) + u32(8000) + u32(8000) + u16(1) + u16(8) + u16(0)
        let streamProperties =
            streamPropertiesObject + u64(UInt64(78 + waveFormat.count)) + audioMedia + noErrorCorrection
            + u64(0) + u32(UInt32(waveFormat.count)) + u32(0) + u16(Int(streamNumber)) + u32(0) + waveFormat
        let headerExtension = headerExtensionObject + u64(46) + reserved1 + u16(6) + u32(0)
        let children = fileProperties + streamProperties + headerExtension
        let head = headerObject + u64(UInt64(30 + children.count)) + u32(3) + [0x01, 0x02]
        // The data object of a live stream: its size and packet count unknown (0), reserved 0x0101.
        let data = dataObject + u64(0) + fileID + u64(0) + [0x01, 0x01]
        return head + children + data
    }

    /// One data packet holding one whole media object (20 ms of audio): error correction data,
    /// payload parsing information with a padding length, then a single payload whose replicated
    /// data gives the object's size and presentation time; zero padding to `packetSize`.
    public static func dataPacket(objectNumber: Int, milliseconds: UInt32, samples: [UInt8]) -> [UInt8] {
        precondition(samples.count <= packetSize - 40, "a payload fits one packet")
        var packet: [UInt8] = [0x82, 0x00, 0x00]  // error correction present, 2 bytes of it
        let headerSize = 3 + 1 + 1 + 1 + 4 + 2 + 1 + 1 + 4 + 1 + 8
        let padding = packetSize - headerSize - samples.count
        packet += [0x08]  // length type flags: a BYTE padding length; no packet length, no sequence
        packet += [0x5D]  // property flags: BYTE replicated length, DWORD offset, BYTE object number, BYTE stream
        packet += [UInt8(padding)]
        packet += u32(milliseconds) + u16(20)  // send time, duration
        packet += [0x80 | streamNumber, UInt8(objectNumber & 0xFF)] + u32(0)  // key frame, stream 1; object; offset 0
        packet += [8] + u32(UInt32(samples.count)) + u32(milliseconds)  // replicated data: size, presentation time
        packet += samples
        return packet + [UInt8](repeating: 0, count: padding)
    }
}

extension MMSResponder {
    /// An MMSH chunk: `$` and the type letter, its length (little-endian, counting the 8-byte
    /// extended header), then that header (sequence number, two unused bytes, the length again).
    public static func chunk(_ type: Character, sequence: UInt32, body: [UInt8]) -> [UInt8] {
        let length = body.count + 8
        return [0x24, type.asciiValue!] + ASF.u16(length) + ASF.u32(sequence) + [0x00, 0x00] + ASF.u16(length) + body
    }
}
