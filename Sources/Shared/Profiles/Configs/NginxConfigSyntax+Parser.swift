import PortModel

/// Reads nginx-style configuration files into directive trees, following `include`.
enum NginxConfigSyntax {
    /// How `include` names its files.
    enum IncludeStyle: Sendable, Hashable {
        /// nginx: `include FILE|GLOB;`, one argument; a relative path resolves against the main
        /// file's directory (nginx uses its conf prefix, which is that directory in every packaged
        /// nginx: /etc/nginx); a glob may match nothing.
        case nginx
        /// SRS: `include FILE [FILE...];`, no globs; a relative path resolves against the directory
        /// SRS was started in, which portctl cannot know: the main file's directory is tried first,
        /// then its parent (SRS runs as `./objs/srs -c conf/srs.conf` from the directory above conf/).
        /// SRS also refuses a directive that runs over more than one line.
        case srs
    }

    static let maxIncludeDepth = 16
    static let maxIncludedFiles = 1024
    static let maxBlockDepth = 64

    /// Reads `path` and everything it includes. Included directives are spliced in where the
    /// `include` was, keeping their own file and line.
    static func load(path: String, files: some ConfigFileSystem, style: IncludeStyle) throws(ConfigError) -> NginxConfigTree {
        var loader = NginxConfigLoader(files: files, style: style, mainDirectory: Path.parent(path), readFiles: [path])
        let text = try files.read(path)
        let directives = try loader.parse(text, file: path, chain: [Path.normalized(path)])
        return NginxConfigTree(directives: directives, files: loader.readFiles)
    }

    /// Parses one file's text, `include` kept as a plain directive (for tests of the syntax alone).
    static func parse(_ text: String, file: String, style: IncludeStyle = .nginx) throws(ConfigError) -> [NginxDirective] {
        var loader = NginxConfigLoader(files: NoConfigFiles(), style: style, mainDirectory: "/", readFiles: [file], expands: false)
        return try loader.parse(text, file: file, chain: [file])
    }
}

/// A file system with no files, for parsing text alone.
private struct NoConfigFiles: ConfigFileSystem {
    func read(_ path: String) throws(ConfigError) -> String { throw ConfigError(file: path, line: 0, message: "no such file") }
    func glob(_ pattern: String) -> [String] { [] }
    func exists(_ path: String) -> Bool { false }
}

/// The parser's state across one main file and its includes.
private struct NginxConfigLoader<Files: ConfigFileSystem> {
    /// nginx's directives that open a block: only their headers may span lines.
    static var blockDirectives: Set<String> {
        NginxBlockDirectives.names
    }

    let files: Files
    let style: NginxConfigSyntax.IncludeStyle
    let mainDirectory: String
    var readFiles: [String]
    var expands = true
    var includedCount = 0

    /// An open block: its header and the directives read so far.
    private struct Frame {
        let words: [NginxToken]
        var children: [NginxDirective]
    }

    mutating func parse(_ text: String, file: String, chain: [String]) throws(ConfigError) -> [NginxDirective] {
        // nginx and SRS both refuse a byte-order mark (an unknown directive); so does portctl, rather
        // than drop the first block without a word.
        if text.utf8.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw ConfigError(
                file: file, line: 1, message: "starts with a UTF-8 byte-order mark, which nginx and SRS refuse; save the file without it")
        }
        var lexer = NginxLexer(text: text, file: file)
        var stack: [Frame] = []
        var top: [NginxDirective] = []
        var words: [NginxToken] = []
        while let token = try lexer.next() {
            switch token.kind {
            case .word:
                words.append(token)
            case .semicolon:
                guard !words.isEmpty else {
                    throw ConfigError(file: file, line: token.line, message: "unexpected ';' with no directive before it")
                }
                if style == .srs, let later = words.firstIndex(where: { $0.line != words[0].line }) {
                    throw Self.unterminated(words, at: later, file: file)
                }
                let directive = Self.directive(words, file: file, children: nil)
                words = []
                let spliced = directive.name == "include" && expands ? try expand(directive, chain: chain) : [directive]
                if stack.isEmpty { top += spliced } else { stack[stack.count - 1].children += spliced }
            case .open:
                guard !words.isEmpty else {
                    throw ConfigError(file: file, line: token.line, message: "unexpected '{' with no directive name before it")
                }
                // nginx takes a block's header over several lines (`map $a\n $b {`); SRS does not. Only
                // a block directive's, though: `listen 1935` and a `{` lines later is a missing ';'.
                if style == .srs || !Self.blockDirectives.contains(words[0].value),
                    let later = words.firstIndex(where: { $0.line != words[0].line })
                {
                    throw Self.unterminated(words, at: later, file: file)
                }
                guard stack.count < NginxConfigSyntax.maxBlockDepth else {
                    throw ConfigError(
                        file: file, line: token.line,
                        message: "blocks nested more than \(NginxConfigSyntax.maxBlockDepth) deep; expected a real configuration")
                }
                stack.append(Frame(words: words, children: []))
                words = []
            case .close:
                if let first = words.first {
                    throw ConfigError(
                        file: file, line: first.line,
                        message: "expected ';' or '{' after '\(Self.shown(words))' before the '}' on line \(token.line)")
                }
                guard let frame = stack.popLast() else {
                    throw ConfigError(file: file, line: token.line, message: "unexpected '}': no block is open here")
                }
                let block = Self.directive(frame.words, file: file, children: frame.children)
                if stack.isEmpty { top.append(block) } else { stack[stack.count - 1].children.append(block) }
            }
        }
        if let first = words.first {
            throw ConfigError(
                file: file, line: first.line, message: "expected ';' or '{' after '\(Self.shown(words))'; the file ends first")
        }
        if let open = stack.last {
            throw ConfigError(
                file: file, line: lexer.lastLine,
                message: "'{' at line \(open.words[0].line) is never closed ('\(Self.shown(open.words)) {'); "
                    + "expected '}' before the end of the file")
        }
        return top
    }

    private static func shown(_ words: some Collection<NginxToken>) -> String {
        Shown.value(words.map(\.raw).joined(separator: " "))
    }

    private static func directive(_ words: [NginxToken], file: String, children: [NginxDirective]?) -> NginxDirective {
        let text = words.map(\.raw).joined(separator: " ") + (children == nil ? ";" : " {")
        return NginxDirective(
            name: words[0].value, args: words.dropFirst().map(\.value), argLines: words.dropFirst().map(\.line), file: file,
            line: words[0].line, text: Shown.value(text, limit: 200), children: children)
    }

    /// A directive whose words run onto a later line where a block or (for SRS) any directive
    /// must end on its first line: almost always a missing ';'.
    private static func unterminated(_ words: [NginxToken], at later: Int, file: String) -> ConfigError {
        ConfigError(
            file: file, line: words[0].line,
            message: "expected ';' or '{' after '\(shown(words[..<later]))' at the end of line \(words[0].line); "
                + "'\(Shown.value(words[later].raw))' on line \(words[later].line) starts another directive")
    }

    /// The directives of the files an `include` names.
    private mutating func expand(_ include: NginxDirective, chain: [String]) throws(ConfigError) -> [NginxDirective] {
        let written = include.text.dropLast()
        func fail(_ why: String) -> ConfigError { ConfigError(file: include.file, line: include.line, message: "\(written): \(why)") }
        switch style {
        case .nginx:
            guard include.args.count == 1 else {
                throw fail("include takes one file or glob; expected include FILE; e.g. include conf.d/*.conf;")
            }
        case .srs:
            guard !include.args.isEmpty else {
                throw fail("no file named; expected include FILE [FILE...]; e.g. include conf/vhosts.conf;")
            }
        }
        guard chain.count <= NginxConfigSyntax.maxIncludeDepth else {
            throw fail(
                "includes nested more than \(NginxConfigSyntax.maxIncludeDepth) deep; expected at most \(NginxConfigSyntax.maxIncludeDepth)"
            )
        }
        var result: [NginxDirective] = []
        for pattern in include.args {
            guard !pattern.isEmpty else { throw fail("empty file name; expected include FILE;") }
            for path in try paths(of: pattern, include: include, fail: fail) {
                let normal = Path.normalized(path)
                if let loop = chain.firstIndex(of: normal) {
                    let cycle = (chain[loop...] + [normal]).map(Path.lastComponent).joined(separator: " -> ")
                    throw fail("include loop (\(cycle)); expected a file that does not include itself")
                }
                includedCount += 1
                guard includedCount <= NginxConfigSyntax.maxIncludedFiles else {
                    throw fail("more than \(NginxConfigSyntax.maxIncludedFiles) files included; expected a real configuration")
                }
                let text: String
                do throws(ConfigError) { text = try files.read(path) } catch {
                    throw fail("cannot read \(error.description); expected an existing, readable file (a glob may match none)")
                }
                if !readFiles.contains(path) { readFiles.append(path) }
                result += try parse(text, file: path, chain: chain + [normal])
            }
        }
        return result
    }

    /// The files one `include` argument names: a glob's matches (nginx), else one existing file.
    private func paths(of pattern: String, include: NginxDirective, fail: (String) -> ConfigError) throws(ConfigError) -> [String] {
        let absolute = pattern.hasPrefix("/")
        if style == .nginx {
            let path = Path.normalized(absolute ? pattern : Path.join(mainDirectory, pattern))
            if pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) { return files.glob(path) }
            return [path]
        }
        var candidates = [Path.normalized(absolute ? pattern : Path.join(mainDirectory, pattern))]
        if !absolute {
            let above = Path.normalized(Path.join(Path.parent(mainDirectory), pattern))
            if above != candidates[0] { candidates.append(above) }
        }
        for candidate in candidates {
            do throws(ConfigError) {
                _ = try files.read(candidate)
                return [candidate]
            } catch {
                continue
            }
        }
        let tried = candidates.joined(separator: " or ")
        throw fail("'\(Shown.value(pattern))' is not found (tried \(tried)); expected an existing file")
    }
}

/// nginx's directives that open a block.
private enum NginxBlockDirectives {
    static let names: Set<String> = [
        "http", "server", "location", "map", "geo", "split_clients", "upstream", "if", "limit_except", "types", "events",
        "stream", "mail", "rtmp", "application", "match", "charset_map",
    ]
}
