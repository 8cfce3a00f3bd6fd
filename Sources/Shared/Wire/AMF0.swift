/// AMF0 values, as RTMP commands carry them (number, boolean, string, object, null).
public indirect enum AMF0: Equatable, Sendable {
    case number(Double)
    case boolean(Bool)
    case string(String)
    case object([(String, AMF0)])
    case null

    public static func == (lhs: AMF0, rhs: AMF0) -> Bool { lhs.encoded == rhs.encoded }

    public var encoded: [UInt8] {
        switch self {
        case .number(let value):
            return [0x00] + withUnsafeBytes(of: value.bitPattern.bigEndian) { Array($0) }
        case .boolean(let value):
            return [0x01, value ? 1 : 0]
        case .string(let value):
            return [0x02] + Self.shortString(value)
        case .object(let pairs):
            return [0x03] + pairs.flatMap { Self.shortString($0.0) + $0.1.encoded } + [0x00, 0x00, 0x09]
        case .null:
            return [0x05]
        }
    }

    public static func shortString(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8.prefix(65535))
        return [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
    }

    /// Decodes consecutive values; stops at the first one it does not know (streamd needs only the
    /// command name and transaction id).
    public static func decodeAll(_ bytes: [UInt8]) -> [AMF0] {
        var values: [AMF0] = []
        var offset = 0
        while offset < bytes.count, values.count < 64, let (value, next) = decode(bytes, at: offset, depth: 0) {
            values.append(value)
            offset = next
        }
        return values
    }

    public static func decode(_ bytes: [UInt8], at offset: Int, depth: Int) -> (AMF0, Int)? {
        guard offset < bytes.count, depth < 16 else { return nil }
        switch bytes[offset] {
        case 0x00:
            guard offset + 9 <= bytes.count else { return nil }
            let bits = bytes[(offset + 1)..<(offset + 9)].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return (.number(Double(bitPattern: bits)), offset + 9)
        case 0x01:
            guard offset + 2 <= bytes.count else { return nil }
            return (.boolean(bytes[offset + 1] != 0), offset + 2)
        case 0x02:
            guard let (text, next) = readShortString(bytes, at: offset + 1) else { return nil }
            return (.string(text), next)
        case 0x03:
            var pairs: [(String, AMF0)] = []
            var cursor = offset + 1
            while cursor + 3 <= bytes.count, pairs.count < 256 {
                if bytes[cursor] == 0, bytes[cursor + 1] == 0, bytes[cursor + 2] == 9 { return (.object(pairs), cursor + 3) }
                guard let (key, afterKey) = readShortString(bytes, at: cursor),
                    let (value, afterValue) = decode(bytes, at: afterKey, depth: depth + 1)
                else { return nil }
                pairs.append((key, value))
                cursor = afterValue
            }
            return nil
        case 0x05, 0x06:
            return (.null, offset + 1)
        default:
            return nil
        }
    }

    public static func readShortString(_ bytes: [UInt8], at offset: Int) -> (String, Int)? {
        guard offset + 2 <= bytes.count else { return nil }
        let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
        guard offset + 2 + length <= bytes.count else { return nil }
        return (String(decoding: bytes[(offset + 2)..<(offset + 2 + length)], as: UTF8.self), offset + 2 + length)
    }
}
