import PortModel

/// One directive of an nginx-style configuration file (nginx, nginx-rtmp-module, SRS), where it
/// was written: `listen 1935;`, or a block `server { ... }` with its directives.
struct NginxDirective: Sendable, Hashable {
    let name: String
    /// The arguments, unquoted and unescaped as nginx does it; `$var` is left as text.
    let args: [String]
    /// The line each argument starts on: a directive may run over several lines.
    let argLines: [Int]
    /// The file that holds it: the main file, or the included file it was spliced in from.
    let file: String
    /// The line of its name, 1-based.
    let line: Int
    /// As written, its tokens joined by one space: `listen [::]:1935 ipv6only=on;`, `server {`.
    let text: String
    /// The block's directives, includes spliced in; nil for a simple directive.
    let children: [NginxDirective]?

    var citation: Citation { Citation(file: file, line: line, text: text) }

    /// The block's first directive with this name: SRS reads only the first `listen` of a block.
    func first(_ name: String) -> NginxDirective? { children?.first { $0.name == name } }

    /// The block's directives with this name, in file order.
    func all(_ name: String) -> [NginxDirective] { children?.filter { $0.name == name } ?? [] }
}

/// A configuration file read with its includes: the top-level directives and every file read.
struct NginxConfigTree: Sendable, Hashable {
    let directives: [NginxDirective]
    /// The main file first, then each included file in the order first read.
    let files: [String]

    func first(_ name: String) -> NginxDirective? { directives.first { $0.name == name } }
    func all(_ name: String) -> [NginxDirective] { directives.filter { $0.name == name } }
}

/// A token of nginx's configuration syntax.
struct NginxToken: Sendable, Hashable {
    enum Kind: Sendable, Hashable {
        case word
        case semicolon
        case open
        case close
    }

    let kind: Kind
    /// A word unquoted and unescaped; the character itself for `;`, `{` and `}`.
    let value: String
    /// As written, quotes and backslashes included.
    let raw: String
    let line: Int
}

/// Splits nginx configuration text into words, `;`, `{` and `}`, as `ngx_conf_read_token` does:
/// `#` starts a comment only where a word could start, a word ends at white space, `;` or `{`
/// (but `${` stays in the word), `"..."` and `'...'` are single words that may hold any of those,
/// and a backslash keeps the next character from ending a word or a quoted string.
struct NginxLexer {
    private static let lineFeed = UInt8(ascii: "\n")
    private static let backslash = UInt8(ascii: "\\")
    private static let semicolon = UInt8(ascii: ";")
    private static let openBrace = UInt8(ascii: "{")
    private static let closeBrace = UInt8(ascii: "}")
    private static let dollar = UInt8(ascii: "$")
    private static let hash = UInt8(ascii: "#")
    private static let doubleQuote = UInt8(ascii: "\"")
    private static let singleQuote = UInt8(ascii: "'")

    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    /// The line the next character is on.
    private(set) var line = 1

    init(text: String, file: String) {
        self.bytes = Array(text.utf8)
        self.file = file
    }

    /// The file's last line: where an error about the end of the file points.
    var lastLine: Int { bytes.last == Self.lineFeed ? max(1, line - 1) : line }

    /// The next token, or nil at the end of the text.
    mutating func next() throws(ConfigError) -> NginxToken? {
        skipBlanksAndComments()
        guard index < bytes.count else { return nil }
        let byte = bytes[index]
        switch byte {
        case Self.semicolon, Self.openBrace, Self.closeBrace:
            index += 1
            let kind: NginxToken.Kind = byte == Self.semicolon ? .semicolon : byte == Self.openBrace ? .open : .close
            let text = String(UnicodeScalar(byte))
            return NginxToken(kind: kind, value: text, raw: text, line: line)
        case Self.doubleQuote, Self.singleQuote:
            return try quoted()
        default:
            return word()
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

    private mutating func skipBlanksAndComments() {
        var inComment = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == Self.lineFeed {
                line += 1
                inComment = false
            } else if !inComment {
                if byte == Self.hash {
                    inComment = true
                } else if !Self.isBlank(byte) {
                    return
                }
            }
            index += 1
        }
    }

    private mutating func word() -> NginxToken {
        let start = index
        let startLine = line
        var afterDollar = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == Self.backslash, index + 1 < bytes.count {
                if bytes[index + 1] == Self.lineFeed { line += 1 }
                index += 2
                afterDollar = false
                continue
            }
            if byte == Self.openBrace, afterDollar {
                index += 1
                afterDollar = false
                continue
            }
            if Self.isBlank(byte) || byte == Self.semicolon || byte == Self.openBrace { break }
            afterDollar = byte == Self.dollar
            index += 1
        }
        let raw = bytes[start..<index]
        return NginxToken(kind: .word, value: Self.unescape(raw), raw: String(decoding: raw, as: UTF8.self), line: startLine)
    }

    private mutating func quoted() throws(ConfigError) -> NginxToken {
        let quote = bytes[index]
        let start = index
        let startLine = line
        let mark = quote == Self.doubleQuote ? "\"" : "'"
        index += 1
        while index < bytes.count {
            let byte = bytes[index]
            if byte == Self.backslash, index + 1 < bytes.count {
                if bytes[index + 1] == Self.lineFeed { line += 1 }
                index += 2
                continue
            }
            if byte == Self.lineFeed { line += 1 }
            index += 1
            guard byte == quote else { continue }
            let raw = bytes[start..<index]
            if index < bytes.count {
                let after = bytes[index]
                guard Self.isBlank(after) || after == Self.semicolon || after == Self.openBrace else {
                    let shown = Shown.value(String(decoding: raw, as: UTF8.self))
                    throw ConfigError(
                        file: file, line: line,
                        message: "unexpected '\(Shown.value(String(UnicodeScalar(after))))' right after the quoted string \(shown); "
                            + "expected a space, ';' or '{' after the closing \(mark)")
                }
            }
            let body = bytes[(start + 1)..<(index - 1)]
            return NginxToken(kind: .word, value: Self.unescape(body), raw: String(decoding: raw, as: UTF8.self), line: startLine)
        }
        throw ConfigError(
            file: file, line: startLine,
            message: "unterminated quote: the \(mark) opened on line \(startLine) is never closed; "
                + "expected a closing \(mark) before the end of the file")
    }

    /// nginx's unescaping: `\"`, `\'` and `\\` stand for the character, `\t`, `\r` and `\n` for
    /// tab, carriage return and line feed; any other backslash is kept.
    static func unescape(_ raw: ArraySlice<UInt8>) -> String {
        guard raw.contains(backslash) else { return String(decoding: raw, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == backslash, index + 1 < raw.endIndex {
                let next = raw[index + 1]
                var replacement: UInt8?
                switch next {
                case doubleQuote, singleQuote, backslash: replacement = next
                case UInt8(ascii: "t"): replacement = 0x09
                case UInt8(ascii: "r"): replacement = 0x0D
                case UInt8(ascii: "n"): replacement = 0x0A
                default: replacement = nil
                }
                if let replacement {
                    out.append(replacement)
                    index += 2
                    continue
                }
            }
            out.append(byte)
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
