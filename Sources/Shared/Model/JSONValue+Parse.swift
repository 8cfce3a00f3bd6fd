import FoundationEssentials

extension JSONValue {
    public struct ParseError: Error, CustomStringConvertible {
        package init(description: String) { self.description = description }

        public let description: String
    }

    /// Parses JSON text (RFC 8259; numbers must be integers, as in all JSON portctl reads). Object
    /// keys come back in sorted order, as they always have, so stored fingerprints stay comparable.
    ///
    /// One pass over the UTF-8 bytes: a libnftables listing of 10,000 set elements is 1.4 MB, and
    /// JSONDecoder's Codable path took five times as long for it (bench/README.md, apply).
    public static func parse(_ text: String) throws(ParseError) -> JSONValue {
        var text = text
        let result = text.withUTF8 { bytes -> Result<JSONValue, ParseError> in
            var parser = JSONParser(bytes: bytes)
            do throws(ParseError) {
                let value = try parser.value(depth: 0)
                parser.skipSpace()
                guard parser.offset == bytes.count else { throw parser.failure("unexpected text after the value") }
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The single key of a one-key object, as libnftables uses them (`{"accept": null}`).
    public var soleKey: String? {
        guard case .object(let pairs) = self, pairs.count == 1 else { return nil }
        return pairs[0].0
    }
}

/// The parser behind `JSONValue.parse`.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var offset = 0
    /// Deeper than this is refused rather than risking the stack.
    static let maxDepth = 512

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func failure(_ what: String) -> JSONValue.ParseError {
        JSONValue.ParseError(description: "not valid JSON: \(what) at byte \(offset)")
    }

    mutating func skipSpace() {
        while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x0A || bytes[offset] == 0x0D || bytes[offset] == 0x09 {
            offset += 1
        }
    }

    mutating func value(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth < Self.maxDepth else { throw failure("nested more than \(Self.maxDepth) deep") }
        skipSpace()
        guard offset < bytes.count else { throw failure("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var pairs: [(String, JSONValue)] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(pairs)
            }
            while true {
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw failure("expected a key") }
                let key = try string()
                skipSpace()
                guard offset < bytes.count, bytes[offset] == UInt8(ascii: ":") else { throw failure("expected ':'") }
                offset += 1
                pairs.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard offset < bytes.count else { throw failure("unexpected end") }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                guard bytes[offset] == UInt8(ascii: "}") else { throw failure("expected ',' or '}'") }
                offset += 1
                break
            }
            if pairs.count > 1 { pairs.sort { $0.0 < $1.0 } }
            return .object(pairs)
        case UInt8(ascii: "["):
            offset += 1
            var items: [JSONValue] = []
            skipSpace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(items)
            }
            while true {
                items.append(try value(depth: depth + 1))
                skipSpace()
                guard offset < bytes.count else { throw failure("unexpected end") }
                if bytes[offset] == UInt8(ascii: ",") {
                    offset += 1
                    continue
                }
                guard bytes[offset] == UInt8(ascii: "]") else { throw failure("expected ',' or ']'") }
                offset += 1
                return .array(items)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        default: return try number()
        }
    }

    mutating func literal(_ word: StaticString, _ result: JSONValue) throws(JSONValue.ParseError) -> JSONValue {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count,
            word.withUTF8Buffer({ expected in (0..<count).allSatisfy { bytes[offset + $0] == expected[$0] } })
        else { throw failure("unexpected character") }
        offset += count
        return result
    }

    mutating func number() throws(JSONValue.ParseError) -> JSONValue {
        let start = offset
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let digitsStart = offset
        while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 { offset += 1 }
        guard offset > digitsStart else { throw failure("unexpected character") }
        guard offset - digitsStart == 1 || bytes[digitsStart] != 0x30 else { throw failure("a number with a leading zero") }
        if offset < bytes.count,
            bytes[offset] == UInt8(ascii: ".") || bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E")
        {
            throw failure("a number that is not an integer")
        }
        guard let value = Int(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)) else {
            throw failure("an integer out of range")
        }
        return .int(value)
    }

    /// A string, from its opening quote; escapes decoded, UTF-8 checked.
    mutating func string() throws(JSONValue.ParseError) -> String {
        offset += 1
        let start = offset
        // The common case: no escapes, so the bytes are the string.
        while offset < bytes.count, bytes[offset] != UInt8(ascii: "\""), bytes[offset] != UInt8(ascii: "\\"), bytes[offset] >= 0x20 {
            offset += 1
        }
        guard offset < bytes.count else { throw failure("an unterminated string") }
        if bytes[offset] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<offset])
            offset += 1
            guard let text = String(validating: slice, as: UTF8.self) else { throw failure("a string that is not UTF-8") }
            return text
        }
        var scalars = Array(bytes[start..<offset])
        while true {
            guard offset < bytes.count else { throw failure("an unterminated string") }
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                offset += 1
                break
            }
            guard byte >= 0x20 else { throw failure("a control character in a string") }
            if byte != UInt8(ascii: "\\") {
                scalars.append(byte)
                offset += 1
                continue
            }
            offset += 1
            guard offset < bytes.count else { throw failure("an unterminated string") }
            let escape = bytes[offset]
            offset += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
            case UInt8(ascii: "b"): scalars.append(0x08)
            case UInt8(ascii: "f"): scalars.append(0x0C)
            case UInt8(ascii: "n"): scalars.append(0x0A)
            case UInt8(ascii: "r"): scalars.append(0x0D)
            case UInt8(ascii: "t"): scalars.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800...0xDBFF).contains(code) {
                    guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                        throw failure("a lone surrogate")
                    }
                    offset += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw failure("a lone surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(code) {
                    throw failure("a lone surrogate")
                }
                guard let scalar = Unicode.Scalar(code) else { throw failure("an invalid escape") }
                scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw failure("an invalid escape")
            }
        }
        guard let text = String(validating: scalars, as: UTF8.self) else { throw failure("a string that is not UTF-8") }
        return text
    }

    mutating func hex4() throws(JSONValue.ParseError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw failure("an invalid escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt32
            switch byte {
            case 0x30...0x39: digit = UInt32(byte - 0x30)
            case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
            default: throw failure("an invalid escape")
            }
            code = code << 4 | digit
            offset += 1
        }
        return code
    }
}
