import PortModel

/// One element of a configuration file that `ConfigXML` read, with the lines a citation needs.
struct ConfigXMLElement: Sendable, Hashable {
    let name: String
    let attributes: [String: String]
    /// The character data directly inside the element (text and CDATA, entities expanded), untrimmed.
    let text: String
    /// 1-based: the line where the start tag begins.
    let line: Int
    /// The line of the text's first non-blank character; `line` when the text is blank.
    let textLine: Int
    let children: [ConfigXMLElement]

    /// The text, trimmed.
    var value: String { text.trimmingWhitespace() }

    func all(_ name: String) -> [ConfigXMLElement] { children.filter { $0.name == name } }
    func first(_ name: String) -> ConfigXMLElement? { children.first { $0.name == name } }
    func last(_ name: String) -> ConfigXMLElement? { children.last { $0.name == name } }

    /// The element as a citation shows it: `<port>8000</port>`, at most 80 characters.
    var directive: String { ConfigValues.short("<\(name)>\(Shown.value(value, limit: 60))</\(name)>") }

    /// Where this element is in `file`, as a citation.
    func citation(_ file: String) -> Citation { Citation(file: file, line: line, text: directive) }
}

/// Values as the XML readers (DSS, Icecast, Wowza) check them: each failure is one `ConfigError`
/// at the file and line, naming the directive and the value and saying what was expected.
enum ConfigValues {
    /// At most 80 characters, as `Citation.directive` keeps them.
    static func short(_ text: String) -> String { text.count > 80 ? String(text.prefix(79)) + "…" : text }

    /// A port number. `what` is the directive as written (`<port>99999</port>`); `example` a valid
    /// one (`<port>8000</port>`).
    static func port(_ raw: String, what: String, example: String, file: String, line: Int) throws(ConfigError) -> PortNumber {
        let text = raw.trimmingWhitespace()
        func fail(_ why: String) -> ConfigError {
            ConfigError(file: file, line: line, message: "\(what): \(why); expected a port (1-65535) such as \(example)")
        }
        guard !text.isEmpty else { throw fail("no port number") }
        guard !text.contains("${") else { throw fail("'\(Shown.value(text))' is a variable, which portctl does not expand") }
        do throws(ModelError) { return try PortNumber(parsing: text) } catch {
            if case .portOutOfRange = error { throw fail("port \(Shown.value(text)) is out of range (1-65535)") }
            throw fail("'\(Shown.value(text))' is not a port number")
        }
    }

    /// A bind address: `*`, `0.0.0.0` or `::` (any), `localhost` or a loopback address, or one IP
    /// address. Host names are refused: which address a name resolves to is not known here.
    static func bind(
        _ raw: String, what: String, example: String, file: String, line: Int, ipv4Only: Bool = false
    ) throws(ConfigError) -> BindAddress {
        let text = raw.trimmingWhitespace()
        func fail(_ why: String) -> ConfigError {
            ConfigError(file: file, line: line, message: "\(what): \(why); expected an IP address such as \(example)")
        }
        switch text {
        case "": throw fail("no address")
        case "*": return .any
        case "localhost": return .loopback(text)
        default: break
        }
        guard !text.contains("${") else { throw fail("'\(Shown.value(text))' is a variable, which portctl does not expand") }
        guard !text.contains("/"), let cidr = try? CIDR(parsing: text), cidr.isHost else {
            throw fail("'\(Shown.value(text))' is not an IP address (host names are not resolved; write the address)")
        }
        if ipv4Only, cidr.family == .ipv6 { throw fail("'\(Shown.value(text))' is IPv6; this server binds IPv4 addresses only") }
        return ListenAddress.classify(cidr, as: text)
    }

    /// One TCP port as a spec.
    static func tcp(_ port: PortNumber) -> PortSpec { PortSpec(PortRange(single: port), .tcp) }
}

/// The listener ids a reader has handed out, so that each is unique within its `ServerConfig`.
struct ConfigIDs {
    private var taken: Set<String> = []
    private var next: [String: Int] = [:]

    /// `base` when no listener has it yet, else `base-PORT`, then `base-PORT-2`, `-3`, ...
    mutating func claim(_ base: String, port: PortNumber?) -> String {
        var candidate = base
        if taken.contains(candidate), let port { candidate = "\(base)-\(port)" }
        let stem = candidate
        var tries = 0
        // At most `taken.count` candidates are taken, so this ends; `next` keeps it short.
        while taken.contains(candidate), tries <= taken.count {
            let suffix = next[stem, default: 2]
            next[stem] = suffix + 1
            candidate = "\(stem)-\(suffix)"
            tries += 1
        }
        taken.insert(candidate)
        return candidate
    }
}

/// The parts of `XMLScanner` that decode: attributes, character data and references.
extension XMLScanner {
    /// ` name="value"` pairs up to '>' or '/>', which are left for the caller.
    mutating func attributes(of element: String, openedAt start: Int) throws(ConfigError) -> [String: String] {
        var attributes: [String: String] = [:]
        while !atEnd {
            let spaced = skipSpaces()
            guard let byte = peek() else { break }
            if byte == 0x3E || starts(with: "/>") { return attributes }
            let bad = "bad attribute syntax in <\(element)>"
            guard spaced, Self.isNameStart(byte) else { throw fail("\(bad): expected name=\"value\" or '>', found '\(excerpt())'") }
            let name = try name(after: "<\(element) ")
            skipSpaces()
            guard peek() == 0x3D else { throw fail("\(bad): \(name) has no '='; expected \(name)=\"value\"") }
            advance()
            skipSpaces()
            guard let quote = peek(), quote == 0x22 || quote == 0x27 else {
                throw fail("\(bad): the value of \(name) is not quoted; expected \(name)=\"value\"")
            }
            let valueLine = line
            advance()
            var value: [UInt8] = []
            while peek() != quote {
                guard let char = peek() else { throw fail("\(bad): the value of \(name) has no closing quote", line: valueLine) }
                guard char != 0x3C else { throw fail("\(bad): '<' in the value of \(name); write it as &lt;") }
                if char == 0x26 {
                    try entity(into: &value)
                } else {
                    value.append(char)
                    advance()
                }
            }
            advance()
            guard attributes[name] == nil else { throw fail("\(bad): \(name) appears twice") }
            attributes[name] = String(decoding: value, as: UTF8.self)
        }
        throw fail("the file ends inside the tag <\(element) opened at line \(start); expected '>'", line: start)
    }

    /// Character data up to the next '<', entities expanded; notes the line of its first non-space.
    mutating func characters(into text: inout [UInt8], textLine: inout Int) throws(ConfigError) {
        while let byte = peek(), byte != 0x3C {
            if textLine == 0, !Self.isSpace(byte) { textLine = line }
            if byte == 0x26 {
                try entity(into: &text)
            } else {
                text.append(byte)
                advance()
            }
        }
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&#65;` `&#x41;`; any other reference is refused.
    mutating func entity(into out: inout [UInt8]) throws(ConfigError) {
        advance()
        var name: [UInt8] = []
        while let byte = peek(), byte != 0x3B, name.count < 32, !Self.isSpace(byte), byte != 0x3C, byte != 0x26 {
            name.append(byte)
            advance()
        }
        let text = String(decoding: name, as: UTF8.self)
        guard peek() == 0x3B, !name.isEmpty else {
            throw fail("'&\(Shown.value(text, limit: 20))' is not an entity reference; write a literal '&' as &amp;")
        }
        advance()
        let predefined: [String: UInt8] = ["lt": 0x3C, "gt": 0x3E, "amp": 0x26, "quot": 0x22, "apos": 0x27]
        if let byte = predefined[text] {
            out.append(byte)
            return
        }
        guard text.hasPrefix("#") else {
            throw fail(
                "unknown entity &\(Shown.value(text, limit: 32));: only &lt; &gt; &amp; &quot; &apos; and character references "
                    + "such as &#38; are expanded (entities a DOCTYPE declares are not)")
        }
        let hex = text.hasPrefix("#x")
        let digits = String(text.dropFirst(hex ? 2 : 1))
        guard digits.allSatisfy({ $0.isASCII && $0.isHexDigit }), let code = UInt32(digits, radix: hex ? 16 : 10),
            let scalar = Unicode.Scalar(code),
            code == 0x9 || code == 0xA || code == 0xD || code >= 0x20
        else { throw fail("&\(Shown.value(text, limit: 32)); is not a valid character reference; expected e.g. &#38; or &#x26;") }
        out += Array(String(Character(scalar)).utf8)
    }
}
