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
public struct CIDR: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let family: IPFamily
    /// Network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    public let prefix: Int

    public init(parsing text: String) throws(ModelError) {
        let trimmed = text.trimmingWhitespace()
        var addressText = trimmed
        var prefixText: String?
        if let slash = trimmed.firstIndex(of: "/") {
            addressText = String(trimmed[..<slash])
            prefixText = String(trimmed[trimmed.index(after: slash)...])
        }
        guard let (family, bytes) = CIDR.parseAddress(addressText) else {
            throw ModelError.notAnAddress(trimmed)
        }
        var prefix = family.bits
        if let prefixText {
            guard !prefixText.isEmpty, prefixText.count <= 3, prefixText.allSatisfy({ $0.isASCII && $0.isNumber }),
                let value = Int(prefixText), value <= family.bits
            else { throw ModelError.badPrefixLength(trimmed, max: family.bits) }
            prefix = value
        }
        let masked = CIDR.mask(bytes, prefix: prefix)
        let result = CIDR(family: family, bytes: masked, prefix: prefix)
        if masked != bytes {
            throw ModelError.hostBitsSet(trimmed, network: result.description)
        }
        self = result
    }

    private init(family: IPFamily, bytes: [UInt8], prefix: Int) {
        self.family = family
        self.bytes = bytes
        self.prefix = prefix
    }

    public var isHost: Bool { prefix == family.bits }

    /// The address alone, in its canonical text form.
    public var addressText: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var raw = bytes
        let af = family == .ipv4 ? AF_INET : AF_INET6
        let ok = raw.withUnsafeMutableBytes { source in
            inet_ntop(af, source.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { isHost ? addressText : "\(addressText)/\(prefix)" }

    public func contains(_ other: CIDR) -> Bool {
        family == other.family && other.prefix >= prefix && CIDR.mask(other.bytes, prefix: prefix) == bytes
    }

    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        if lhs.family != rhs.family { return lhs.family < rhs.family }
        if lhs.bytes != rhs.bytes { return lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
        return lhs.prefix < rhs.prefix
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

    static func mask(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsBefore = index * 8
            if prefix >= bitsBefore + 8 { return byte }
            if prefix <= bitsBefore { return 0 }
            let keep = prefix - bitsBefore
            return byte & UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
    }
}
