import Crypto

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
/// reflection amplifier.
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
            var generator = SystemRandomNumberGenerator()
            return Request(port: port, nonce: (0..<Knock.nonceSize).map { _ in UInt8.random(in: 0...255, using: &generator) })
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

    /// The reply streamd sends: the request's port and nonce, signed.
    public static func reply(to request: Request, key: SymmetricKey) -> [UInt8] {
        let head = magic + [replyType, 0, UInt8(request.port >> 8), UInt8(request.port & 0xFF)] + request.nonce
        let mac = HMAC<SHA256>.authenticationCode(for: head, using: key)
        return head + Array(mac)
    }

    /// Checks a reply against the request the probe sent: right shape, same port and nonce, valid HMAC.
    public static func verify(reply bytes: [UInt8], for request: Request, key: SymmetricKey) -> Bool {
        guard bytes.count == size, Array(bytes[0..<4]) == magic, bytes[4] == replyType else { return false }
        let head = Array(bytes[0..<24])
        guard UInt16(bytes[6]) << 8 | UInt16(bytes[7]) == request.port, Array(bytes[8..<24]) == request.nonce else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(Array(bytes[24..<56]), authenticating: head, using: key)
    }

    /// The key from a key file's text: surrounding whitespace is ignored, the rest is the key's bytes.
    public static func key(fromFileText text: String) -> SymmetricKey? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        return SymmetricKey(data: Array(trimmed.utf8))
    }

    /// A fresh random key, as the 64 hex characters streamd prints and a key file can hold.
    public static func randomKeyText() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in hexByte(UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// A knock key that can cross threads: `SymmetricKey` is an immutable value, but this version of
/// Crypto does not mark it Sendable.
public struct KnockKey: @unchecked Sendable {
    public let key: SymmetricKey

    public init(_ key: SymmetricKey) { self.key = key }

    /// From a key file's text; nil when it holds nothing but whitespace.
    public init?(fileText: String) {
        guard let key = Knock.key(fromFileText: fileText) else { return nil }
        self.key = key
    }

    /// Keys shorter than this are accepted with a warning.
    public static let recommendedSize = 16
    /// A key file larger than this is refused: it is not a key.
    public static let maxFileSize = 64 * 1024

    /// What `load` read: the key, how the file was taken, and what to warn about.
    public struct Loaded: Sendable {
        public enum Form: String, Sendable {
            /// Text (UTF-8 without control characters but whitespace): the trimmed text's bytes.
            case text
            /// Anything else, such as `head -c 32 /dev/urandom`: the file's bytes as they are.
            case binary
        }
        public let key: KnockKey
        public let form: Form
        /// The key's length in bytes.
        public let size: Int
        /// One line each, without a prefix: the file is readable by others, the key is short.
        public let warnings: [String]
    }

    /// Why a key file cannot be used; `description` is one line that names the file.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// The knock key in `path`, read the same way by `streamd --key` and `portctl probe --key`, so
    /// that one file gives both the same key.
    ///
    /// A text file (valid UTF-8 of printable characters, spaces, tabs, CRs and LFs), such as
    /// `openssl rand -hex 32` or the 64 hex characters streamd prints, gives its text without the
    /// surrounding whitespace, as UTF-8 bytes; it is not decoded from hex. Any other file, such as
    /// `head -c 32 /dev/urandom`, gives its bytes as they are. An empty file, one holding only
    /// whitespace, one over 64 KiB, or one that cannot be read is refused. A key under 16 bytes,
    /// and a file that its group or others may read, get a warning.
    public static func load(path: String) throws(LoadError) -> Loaded {
        let shown = "'\(Self.truncated(path))'"
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LoadError(description: "cannot read \(shown): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw LoadError(description: "cannot read \(shown): \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFREG else { throw LoadError(description: "\(shown) is not a regular file: give the file that holds the key") }
        guard status.st_size <= maxFileSize else {
            throw LoadError(description: "\(shown) is \(status.st_size) bytes, over the 64 KiB a key file may hold: is it the key?")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= maxFileSize {
            let got = read(descriptor, &chunk, chunk.count)
            if got < 0, errno == EINTR { continue }
            guard got >= 0 else { throw LoadError(description: "cannot read \(shown): \(String(cString: strerror(errno)))") }
            if got == 0 { break }
            bytes += chunk[0..<got]
        }
        let make = "make one with: head -c 32 /dev/urandom > \(Self.truncated(path))"
        guard !bytes.isEmpty else { throw LoadError(description: "\(shown) is empty; \(make)") }
        guard bytes.count <= maxFileSize else { throw LoadError(description: "\(shown) is over the 64 KiB a key file may hold: is it the key?") }
        let form: Loaded.Form = isText(bytes) ? .text : .binary
        var key = bytes
        if form == .text {
            key = Array(String(decoding: bytes, as: UTF8.self).trimmingWhitespace().utf8)
            guard !key.isEmpty else { throw LoadError(description: "\(shown) holds only whitespace; \(make)") }
        }
        var warnings: [String] = []
        if status.st_mode & (S_IRGRP | S_IROTH) != 0 {
            let mode = String(status.st_mode & 0o777, radix: 8)
            warnings.append("\(shown) is readable by its group or others (mode 0\(mode)): anyone who reads it can forge streamd's replies; chmod 600 \(Self.truncated(path))")
        }
        if key.count < recommendedSize {
            warnings.append("the key in \(shown) is \(key.count) bytes; use at least \(recommendedSize) (\(make))")
        }
        return Loaded(key: KnockKey(SymmetricKey(data: key)), form: form, size: key.count, warnings: warnings)
    }

    /// Text, as a key file's text: valid UTF-8 of printable characters, spaces, tabs, CRs and LFs
    /// (what Python's `str.isprintable()` allows, plus those), so a script can tell it the same way.
    static func isText(_ bytes: [UInt8]) -> Bool {
        guard let text = String(validating: bytes, as: UTF8.self) else { return false }
        return text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case " ", "\t", "\n", "\r": return true
            default:
                switch scalar.properties.generalCategory {
                case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator: return false
                default: return true
                }
            }
        }
    }

    /// A path as error lines echo it: at most 80 characters.
    static func truncated(_ text: String) -> String { text.count > 80 ? String(text.prefix(80)) + "..." : text }
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
