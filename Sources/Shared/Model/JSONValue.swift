/// A JSON document with ordered object keys, so that output is stable and reads in a sensible order.
public indirect enum JSONValue: Sendable, Hashable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case int(Int)
    case bool(Bool)
    case null

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.compact == rhs.compact }
    public func hash(into hasher: inout Hasher) { hasher.combine(compact) }

    /// One line, no spaces: what goes to libnftables.
    public var compact: String {
        var out = ""
        write(into: &out, indent: nil, level: 0)
        return out
    }

    /// One line with every object's keys sorted: equal documents give equal text, whatever their key order.
    public var canonical: String {
        var out = ""
        writeCanonical(into: &out)
        return out
    }

    func writeCanonical(into out: inout String) {
        switch self {
        case .object(let pairs):
            out += "{"
            for (index, (key, value)) in pairs.sorted(by: { $0.0 < $1.0 }).enumerated() {
                if index > 0 { out += "," }
                JSONValue.quote(key, into: &out)
                out += ":"
                value.writeCanonical(into: &out)
            }
            out += "}"
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.writeCanonical(into: &out)
            }
            out += "]"
        default:
            write(into: &out, indent: nil, level: 0)
        }
    }

    /// A 128-bit digest of the canonical text (two FNV-1a variants), for cheap equality checks.
    /// The text is fed to the hash as it is produced, never built whole: a declaration of 100,000
    /// set elements is 10 MB of it.
    public var digest: String {
        var hash = CanonicalDigest()
        feedCanonical(into: &hash)
        return String(hash.first, radix: 16) + String(hash.second, radix: 16)
    }

    /// The same 128-bit digest over any text.
    public static func digest(ofText text: String) -> String {
        var hash = CanonicalDigest()
        hash.feed(text)
        return String(hash.first, radix: 16) + String(hash.second, radix: 16)
    }

    struct CanonicalDigest {
        var first: UInt64 = 0xcbf2_9ce4_8422_2325
        var second: UInt64 = 0x84222325_cbf29ce4

        mutating func feed(_ byte: UInt8) {
            first = (first ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            second = (second &* 0x0000_0100_0000_01B3) ^ UInt64(byte) ^ (second >> 29)
        }

        mutating func feed(_ text: String) {
            for byte in text.utf8 { feed(byte) }
        }

        mutating func feedQuoted(_ text: String) {
            if text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
                var quoted = ""
                JSONValue.quote(text, into: &quoted)
                feed(quoted)
            } else {
                feed(UInt8(ascii: "\""))
                feed(text)
                feed(UInt8(ascii: "\""))
            }
        }
    }

    /// The bytes of `canonical`, to a digest.
    func feedCanonical(into hash: inout CanonicalDigest) {
        switch self {
        case .object(let pairs):
            hash.feed(UInt8(ascii: "{"))
            let ordered = pairs.count < 2 ? pairs : pairs.sorted(by: { $0.0 < $1.0 })
            for (index, (key, value)) in ordered.enumerated() {
                if index > 0 { hash.feed(UInt8(ascii: ",")) }
                hash.feedQuoted(key)
                hash.feed(UInt8(ascii: ":"))
                value.feedCanonical(into: &hash)
            }
            hash.feed(UInt8(ascii: "}"))
        case .array(let items):
            hash.feed(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { hash.feed(UInt8(ascii: ",")) }
                item.feedCanonical(into: &hash)
            }
            hash.feed(UInt8(ascii: "]"))
        case .string(let text): hash.feedQuoted(text)
        case .int(let value): hash.feed(String(value))
        case .bool(let value): hash.feed(value ? "true" : "false")
        case .null: hash.feed("null")
        }
    }

    /// Indented by two spaces, for people; ends with a newline.
    public var pretty: String {
        var out = ""
        write(into: &out, indent: "  ", level: 0)
        return out + "\n"
    }

    func write(into out: inout String, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .string(let value): JSONValue.quote(value, into: &out)
        case .array(let items):
            if items.isEmpty {
                out += "[]"
                return
            }
            // Short arrays of scalars stay on one line: port lists read better that way.
            let inline = indent == nil || items.allSatisfy(\.isScalar) && items.count <= 8
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += inline && indent != nil ? ", " : "," }
                if !inline, let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                item.write(into: &out, indent: indent, level: level + 1)
            }
            if !inline, let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "]"
        case .object(let pairs):
            if pairs.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            for (index, (key, value)) in pairs.enumerated() {
                if index > 0 { out += "," }
                if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
                JSONValue.quote(key, into: &out)
                out += indent == nil ? ":" : ": "
                value.write(into: &out, indent: indent, level: level + 1)
            }
            if let indent { out += "\n" + String(repeating: indent, count: level) }
            out += "}"
        }
    }

    var isScalar: Bool {
        switch self {
        case .object, .array: return false
        default: return true
        }
    }

    static func quote(_ text: String, into out: inout String) {
        out += "\""
        // Most strings (names, ports, comments) need no escaping: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
