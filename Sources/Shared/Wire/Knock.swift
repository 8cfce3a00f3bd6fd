#if canImport(Glibc)
    import Glibc
#endif

/// The UDP knock that proves a probe reached streamd through the firewall (DESIGN.md decision 6).
///
/// Request, 56 bytes:  "PCK1" | 0x01 | flags 0x00 | port (u16 BE) | nonce (16) | zero padding (32)
/// Reply,   56 bytes:  "PCK1" | 0x02 | flags 0x00 | port (u16 BE) | nonce (16) | HMAC-SHA256 (32)
///
/// The HMAC, under the key both sides share, covers the reply's first 24 bytes, so only a holder
/// of the key can answer, and the reply names the port and nonce the probe sent. The request is
/// padded to the reply's size so that a reply is never larger than its request: streamd is no
/// reflection amplifier. The format lives here, with no dependencies (the fuzzer builds it alone);
/// the HMAC is KnockAuth's.
public enum Knock {
    public static let magic: [UInt8] = Array("PCK1".utf8)
    public static let requestType: UInt8 = 0x01
    public static let replyType: UInt8 = 0x02
    public static let size = 56
    public static let nonceSize = 16

    public struct Request: Sendable, Hashable {
        public let port: UInt16
        public let nonce: [UInt8]

        public init(port: UInt16, nonce: [UInt8]) {
            precondition(nonce.count == Knock.nonceSize, "a knock nonce is 16 bytes")
            self.port = port
            self.nonce = nonce
        }

        /// A request with a fresh random nonce.
        public static func random(port: UInt16) -> Request {
            Request(port: port, nonce: RandomBytes.make(Knock.nonceSize))
        }

        public var bytes: [UInt8] {
            Knock.magic + [Knock.requestType, 0, UInt8(port >> 8), UInt8(port & 0xFF)] + nonce + [UInt8](repeating: 0, count: 32)
        }

        /// Parses a request; nil for anything malformed, which streamd drops without a word.
        public init?(bytes: [UInt8]) {
            guard bytes.count == Knock.size, Array(bytes[0..<4]) == Knock.magic, bytes[4] == Knock.requestType, bytes[5] == 0,
                bytes[24...].allSatisfy({ $0 == 0 })
            else { return nil }
            self.port = UInt16(bytes[6]) << 8 | UInt16(bytes[7])
            self.nonce = Array(bytes[8..<24])
        }
    }

    /// The first 24 bytes of the reply to `request`: what the HMAC covers.
    public static func replyHead(for request: Request) -> [UInt8] {
        magic + [replyType, 0, UInt8(request.port >> 8), UInt8(request.port & 0xFF)] + request.nonce
    }

    /// A reply's head and MAC when it has the reply's shape and names `request`'s port and nonce.
    public static func parseReply(_ bytes: [UInt8], for request: Request) -> (head: [UInt8], mac: [UInt8])? {
        guard bytes.count == size, Array(bytes[0..<4]) == magic, bytes[4] == replyType else { return nil }
        guard UInt16(bytes[6]) << 8 | UInt16(bytes[7]) == request.port, Array(bytes[8..<24]) == request.nonce else { return nil }
        return (Array(bytes[0..<24]), Array(bytes[24..<56]))
    }

    /// A fresh random key, as the 64 hex characters streamd prints and a key file can hold.
    public static func randomKeyText() -> String {
        RandomBytes.make(32).map(hexByte).joined()
    }
}

/// Knocks per source, so that a burst from one address cannot make streamd a traffic source.
///
/// A token bucket per source address: `burst` knocks at once, refilled at `perSecond`. The table
/// is cleared when it grows past `maxSources`, which bounds memory under spoofed floods.
///
/// The defaults (2000 at once, 1000 a second) leave room for probes run back to back: a DSS probe
/// sends 40 knocks in a few milliseconds, and the former 100 and 50 a second dropped the first
/// knocks of every run from the third on, so they were answered only when resent, a third of the
/// timeout later (issue 11 item 13). A reply is never larger than its request, so the limit
/// bounds what a forged source can draw towards its victim, at most 1000 × 56 bytes a second,
/// never more than it sends itself.
public struct KnockRateLimiter: Sendable {
    public let perSecond: Double
    public let burst: Double
    public let maxSources: Int
    private var buckets: [String: (tokens: Double, last: Double)] = [:]

    public init(perSecond: Double = 1000, burst: Double = 2000, maxSources: Int = 65536) {
        self.perSecond = perSecond
        self.burst = burst
        self.maxSources = maxSources
    }

    /// True when `source` may have a reply at time `now` (seconds, any monotonic origin).
    public mutating func allow(_ source: String, now: Double) -> Bool {
        if buckets.count >= maxSources, buckets[source] == nil { buckets.removeAll(keepingCapacity: true) }
        var bucket = buckets[source] ?? (burst, now)
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.last) * perSecond)
        bucket.last = now
        guard bucket.tokens >= 1 else {
            buckets[source] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[source] = bucket
        return true
    }
}

/// Two lowercase hex digits, without Foundation. (A free function on purpose: an initializer on
/// String taking a UInt8 would capture `bytes.map(String.init)` elsewhere.)
public func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
