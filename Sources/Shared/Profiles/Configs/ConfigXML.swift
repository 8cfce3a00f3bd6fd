import PortModel

/// A small, strict XML reader for server configuration files (streamingserver.xml, icecast.xml,
/// Wowza's VHost.xml and Server.xml), written by hand: libxml2 and Foundation's XMLParser both link
/// ICU. It skips the XML declaration, processing instructions, comments and a DOCTYPE with its
/// internal subset; it expands only the five predefined entities and character references, so a
/// DOCTYPE's entities are never expanded (no XXE, no billion laughs). Errors name the line and what
/// was expected.
enum ConfigXML {
    /// Deeper nesting is refused: no configuration file needs it, and it bounds the recursion.
    static let maxDepth = 64

    /// The root element of `text`, read from `file` (named in errors).
    static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigXMLElement {
        var scanner = XMLScanner(bytes: Array(text.utf8), file: file)
        return try scanner.document()
    }
}

/// Walks the UTF-8 bytes once, counting lines. Every loop consumes at least one byte per turn or
/// ends, so it is bounded by the file's length; elements recurse at most `ConfigXML.maxDepth` deep.
struct XMLScanner {
    let bytes: [UInt8]
    let file: String
    var index = 0
    var line = 1

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    var atEnd: Bool { index >= bytes.count }

    func peek(_ offset: Int = 0) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }

    func fail(_ message: String, line: Int? = nil) -> ConfigError { ConfigError(file: file, line: line ?? self.line, message: message) }

    func starts(with literal: String) -> Bool {
        var offset = 0
        for byte in literal.utf8 {
            guard peek(offset) == byte else { return false }
            offset += 1
        }
        return true
    }

    mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where index < bytes.count {
            // A lone CR ends a line too; CR LF counts once, at the LF.
            if bytes[index] == 0x0A || (bytes[index] == 0x0D && peek(1) != 0x0A) { line += 1 }
            index += 1
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }

    static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x3A || byte >= 0x80
    }

    static func isNameChar(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x2E
    }

    /// Skips spaces, tabs and newlines; true when there were any.
    @discardableResult
    mutating func skipSpaces() -> Bool {
        let start = index
        while let byte = peek(), Self.isSpace(byte) { advance() }
        return index > start
    }

    /// Moves past the next `literal`; false (at the end of the file) when there is none.
    mutating func skip(past literal: String) -> Bool {
        while !atEnd {
            if starts(with: literal) {
                advance(literal.utf8.count)
                return true
            }
            advance()
        }
        return false
    }

    /// What stands at the cursor, for a message: up to the next '<' or line end, at most 30 characters.
    func excerpt() -> String {
        var end = min(index + 1, bytes.count)
        while end < bytes.count, end - index < 120, bytes[end] != 0x3C, bytes[end] != 0x0A { end += 1 }
        return Shown.value(String(decoding: bytes[index..<end], as: UTF8.self).trimmingWhitespace(), limit: 30)
    }

    mutating func name(after what: String) throws(ConfigError) -> String {
        guard let first = peek(), Self.isNameStart(first) else {
            throw fail(
                atEnd
                    ? "the file ends after \(what); expected an element name"
                    : "expected an element name after \(what), found '\(excerpt())'")
        }
        let start = index
        while let byte = peek(), Self.isNameChar(byte) { advance() }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func document() throws(ConfigError) -> ConfigXMLElement {
        if starts(with: "\u{FEFF}") { advance(3) }
        var root: ConfigXMLElement?
        var doctypeLine: Int?
        while !atEnd {
            if skipSpaces() { continue }
            let here = line
            if starts(with: "<?") {
                try skipInstruction()
            } else if starts(with: "<!--") {
                try skipComment()
            } else if starts(with: "<!DOCTYPE") {
                if let root { throw fail("<!DOCTYPE after the root element <\(root.name)>; it may only come before it") }
                if let doctypeLine { throw fail("a second <!DOCTYPE (the first is at line \(doctypeLine))") }
                doctypeLine = here
                try skipDoctype()
            } else if peek() == 0x3C, let root {
                throw fail(
                    "'\(excerpt())' after the root element <\(root.name)> (line \(root.line)) was closed; a file has one root element")
            } else if peek() == 0x3C, peek(1).map(Self.isNameStart) == true {
                root = try element(depth: 1)
            } else if let root {
                throw fail("text after the root element <\(root.name)> was closed: '\(excerpt())'; expected only comments after it")
            } else {
                throw fail("'\(excerpt())' before the root element; expected the root element's start tag")
            }
        }
        guard let root else { throw ConfigError(file: file, line: 0, message: "has no root element; expected an XML document") }
        return root
    }

    mutating func skipInstruction() throws(ConfigError) {
        let start = line
        guard skip(past: "?>") else {
            throw fail("unterminated processing instruction: '<?' at line \(start) has no closing '?>'", line: start)
        }
    }

    mutating func skipComment() throws(ConfigError) {
        let start = line
        advance(4)
        guard skip(past: "-->") else { throw fail("unterminated comment: '<!--' at line \(start) has no closing '-->'", line: start) }
    }

    /// `<!DOCTYPE NAME ... [ internal subset ]>`, skipped whole: its declarations are not read.
    mutating func skipDoctype() throws(ConfigError) {
        let start = line
        advance(9)
        var quote: UInt8?
        while let byte = peek() {
            advance()
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == 0x22 || byte == 0x27 {
                quote = byte
            } else if byte == 0x5B {
                try skipInternalSubset(openedAt: start)
            } else if byte == 0x3E {
                return
            }
        }
        throw fail("unterminated <!DOCTYPE at line \(start): expected '>' to close it", line: start)
    }

    mutating func skipInternalSubset(openedAt start: Int) throws(ConfigError) {
        while let byte = peek() {
            if starts(with: "<!--") {
                try skipComment()
            } else if starts(with: "<?") {
                try skipInstruction()
            } else if byte == 0x22 || byte == 0x27 {
                let quoteLine = line
                advance()
                guard skip(past: byte == 0x22 ? "\"" : "'") else {
                    throw fail("unterminated quoted string in the <!DOCTYPE internal subset", line: quoteLine)
                }
            } else {
                advance()
                if byte == 0x5D { return }
            }
        }
        throw fail("unterminated internal subset of the <!DOCTYPE at line \(start): expected ']>'", line: start)
    }

    mutating func element(depth: Int) throws(ConfigError) -> ConfigXMLElement {
        let start = line
        guard depth <= ConfigXML.maxDepth else {
            throw fail("elements are nested more than \(ConfigXML.maxDepth) deep; a configuration file needs far fewer levels")
        }
        advance()
        let name = try name(after: "'<'")
        let attributes = try attributes(of: name, openedAt: start)
        if starts(with: "/>") {
            advance(2)
            return ConfigXMLElement(name: name, attributes: attributes, text: "", line: start, textLine: start, children: [])
        }
        advance()  // '>'
        var text: [UInt8] = []
        var textLine = 0
        var children: [ConfigXMLElement] = []
        while !atEnd {
            if starts(with: "</") {
                let closeLine = line
                advance(2)
                let closing = try self.name(after: "'</'")
                skipSpaces()
                guard peek() == 0x3E else { throw fail("expected '>' to end </\(closing)>, found '\(excerpt())'") }
                advance()
                guard closing == name else { throw fail("</\(closing)> closes <\(name)> opened at line \(start)", line: closeLine) }
                return ConfigXMLElement(
                    name: name, attributes: attributes, text: String(decoding: text, as: UTF8.self), line: start,
                    textLine: textLine == 0 ? start : textLine, children: children)
            } else if starts(with: "<!--") {
                try skipComment()
            } else if starts(with: "<![CDATA[") {
                let cdataLine = line
                advance(9)
                let from = index
                guard skip(past: "]]>") else {
                    throw fail("unterminated CDATA section: '<![CDATA[' at line \(cdataLine) has no ']]>'", line: cdataLine)
                }
                let content = bytes[from..<(index - 3)]
                if textLine == 0, content.contains(where: { !Self.isSpace($0) }) { textLine = cdataLine }
                text += content
            } else if starts(with: "<?") {
                try skipInstruction()
            } else if starts(with: "<!") {
                throw fail("'\(excerpt())' inside <\(name)>; expected an element, a comment <!-- --> or <![CDATA[ ]]>")
            } else if peek() == 0x3C {
                children.append(try element(depth: depth + 1))
            } else {
                try characters(into: &text, textLine: &textLine)
            }
        }
        throw fail("<\(name)> opened at line \(start) is not closed: the file ends at line \(line); expected </\(name)>", line: start)
    }
}
