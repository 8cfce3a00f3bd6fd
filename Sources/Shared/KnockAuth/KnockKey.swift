import Crypto
import StreamWire

#if canImport(Glibc)
    import Glibc
#endif

extension Knock {
    /// The reply streamd sends: the request's port and nonce, signed.
    public static func reply(to request: Request, key: SymmetricKey) -> [UInt8] {
        let head = replyHead(for: request)
        return head + Array(HMAC<SHA256>.authenticationCode(for: head, using: key))
    }

    /// Checks a reply against the request the probe sent: right shape, same port and nonce, valid HMAC.
    public static func verify(reply bytes: [UInt8], for request: Request, key: SymmetricKey) -> Bool {
        guard let (head, mac) = parseReply(bytes, for: request) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: head, using: key)
    }

    /// The key from a key file's text: surrounding whitespace is ignored, the rest is the key's bytes.
    public static func key(fromFileText text: String) -> SymmetricKey? {
        let trimmed = text.trimmingASCIISpace()
        guard !trimmed.isEmpty else { return nil }
        return SymmetricKey(data: Array(trimmed.utf8))
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
        guard fstat(descriptor, &status) == 0 else {
            throw LoadError(description: "cannot read \(shown): \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw LoadError(description: "\(shown) is not a regular file: give the file that holds the key")
        }
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
        guard bytes.count <= maxFileSize else {
            throw LoadError(description: "\(shown) is over the 64 KiB a key file may hold: is it the key?")
        }
        let form: Loaded.Form = isText(bytes) ? .text : .binary
        var key = bytes
        if form == .text {
            key = Array(String(decoding: bytes, as: UTF8.self).trimmingASCIISpace().utf8)
            guard !key.isEmpty else { throw LoadError(description: "\(shown) holds only whitespace; \(make)") }
        }
        var warnings: [String] = []
        if status.st_mode & (S_IRGRP | S_IROTH) != 0 {
            let mode = String(status.st_mode & 0o777, radix: 8)
            warnings.append(
                "\(shown) is readable by its group or others (mode 0\(mode)): anyone who reads it can forge streamd's replies; chmod 600 \(Self.truncated(path))"
            )
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
                case .control, .format, .surrogate, .privateUse, .unassigned, .spaceSeparator, .lineSeparator, .paragraphSeparator:
                    return false
                default: return true
                }
            }
        }
    }

    /// A path as error lines echo it: at most 80 characters.
    static func truncated(_ text: String) -> String { text.count > 80 ? String(text.prefix(80)) + "..." : text }
}

extension String {
    /// Without leading and trailing spaces, tabs, CRs and LFs (by scalar: "\r\n" is one Character).
    func trimmingASCIISpace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" }
        while let first = scalars.first, isSpace(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, isSpace(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
