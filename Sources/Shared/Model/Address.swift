#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An IP family: IPv4 or IPv6.
public enum IPFamily: String, Sendable, Hashable, Comparable, Codable {
    case ipv4
    case ipv6

    public var bits: Int { self == .ipv4 ? 32 : 128 }
    public static func < (lhs: IPFamily, rhs: IPFamily) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// An IPv4 or IPv6 network: an address and a prefix length, with no host bits set.
/// A bare address is a network of one host (`/32` or `/128`).
///
/// The address is two integers, not an array: allow-lists run to 100,000 networks, and a heap
/// object per address cost more than everything else in parsing, sorting and rendering them.
public struct CIDR: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let family: IPFamily
    /// The address left-aligned in 128 bits, network order: IPv4 in the top 32 bits of `high`.
    let high: UInt64
    let low: UInt64
    public let prefix: Int

    /// Network byte order: 4 bytes for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        let all =
            (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        return Array(all.prefix(family == .ipv4 ? 4 : 16))
    }

    public init(parsing text: String) throws(ModelError) {
        let edges = [text.utf8.first, text.utf8.last].compactMap { $0 }
        let trimmed = edges.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) ? text : text.trimmingWhitespace()
        var addressText = Substring(trimmed)
        var prefixText: Substring?
        if let slash = trimmed.utf8.firstIndex(of: UInt8(ascii: "/")) {
            addressText = trimmed[..<slash]
            prefixText = trimmed[trimmed.index(after: slash)...]
        }
        guard let (family, high, low) = CIDR.parseBits(addressText) else { throw ModelError.notAnAddress(trimmed) }
        var prefix = family.bits
        if let prefixText {
            guard !prefixText.isEmpty, prefixText.utf8.count <= 3, prefixText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(prefixText), value <= family.bits
            else { throw ModelError.badPrefixLength(trimmed, max: family.bits) }
            prefix = value
        }
        let (maskHigh, maskLow) = CIDR.masks(prefix)
        let result = CIDR(family: family, high: high & maskHigh, low: low & maskLow, prefix: prefix)
        if result.high != high || result.low != low {
            throw ModelError.hostBitsSet(trimmed, network: result.description)
        }
        self = result
    }

    private init(family: IPFamily, high: UInt64, low: UInt64, prefix: Int) {
        self.family = family
        self.high = high
        self.low = low
        self.prefix = prefix
    }

    public var isHost: Bool { prefix == family.bits }

    /// The address alone, in its canonical text form (RFC 5952 for IPv6, as inet_ntop writes it).
    public var addressText: String {
        if family == .ipv4 {
            let word = UInt32(truncatingIfNeeded: high >> 32)
            return "\(word >> 24).\(word >> 16 & 0xFF).\(word >> 8 & 0xFF).\(word & 0xFF)"
        }
        var buffer = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let ok = raw.withUnsafeMutableBytes { source in
            inet_ntop(AF_INET6, source.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { isHost ? addressText : "\(addressText)/\(prefix)" }

    public func contains(_ other: CIDR) -> Bool {
        guard family == other.family, other.prefix >= prefix else { return false }
        let (maskHigh, maskLow) = CIDR.masks(prefix)
        return other.high & maskHigh == high && other.low & maskLow == low
    }

    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        if lhs.family != rhs.family { return lhs.family < rhs.family }
        if lhs.high != rhs.high { return lhs.high < rhs.high }
        if lhs.low != rhs.low { return lhs.low < rhs.low }
        return lhs.prefix < rhs.prefix
    }

    /// The masks of a prefix length over the left-aligned 128 bits.
    static func masks(_ prefix: Int) -> (UInt64, UInt64) {
        let high: UInt64 = prefix >= 64 ? .max : (prefix <= 0 ? 0 : ~(UInt64.max >> prefix))
        let low: UInt64 = prefix >= 128 ? .max : (prefix <= 64 ? 0 : ~(UInt64.max >> (prefix - 64)))
        return (high, low)
    }

    /// An address's family and bits: anything with a colon by inet_pton (IPv6), the rest as dotted
    /// IPv4 here (four decimal octets of at most 255, no leading zeros, as inet_pton takes them).
    static func parseBits(_ text: Substring) -> (IPFamily, UInt64, UInt64)? {
        if text.utf8.contains(UInt8(ascii: ":")) {
            guard let (family, bytes) = parseAddress(String(text)), family == .ipv6 else { return nil }
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return (.ipv6, high, low)
        }
        var octets: UInt64 = 0
        var count = 0
        var value = -1
        var digits = 0
        for byte in text.utf8 {
            if byte >= 0x30, byte <= 0x39 {
                if digits > 0, value == 0 { return nil }
                value = (value < 0 ? 0 : value) * 10 + Int(byte - 0x30)
                digits += 1
                guard value <= 255 else { return nil }
            } else if byte == UInt8(ascii: "."), digits > 0, count < 3 {
                octets = octets << 8 | UInt64(value)
                count += 1
                value = -1
                digits = 0
            } else {
                return nil
            }
        }
        guard count == 3, digits > 0 else { return nil }
        octets = octets << 8 | UInt64(value)
        return (.ipv4, octets << 32, 0)
    }

    package static func parseAddress(_ text: String) -> (IPFamily, [UInt8])? {
        guard !text.isEmpty, text.count <= 45, text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "." || $0 == ":") })
        else { return nil }
        var v4 = in_addr()
        if text.contains("."), !text.contains(":"), inet_pton(AF_INET, text, &v4) == 1 {
            return (.ipv4, withUnsafeBytes(of: &v4) { Array($0) })
        }
        var v6 = in6_addr()
        if text.contains(":"), inet_pton(AF_INET6, text, &v6) == 1 {
            return (.ipv6, withUnsafeBytes(of: &v6) { Array($0) })
        }
        return nil
    }
}
