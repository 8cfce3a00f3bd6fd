import CLibYAML
import PortModel

/// Where a node starts in the file, 1-based.
public struct Mark: Sendable, Hashable {
    public let line: Int
    public let column: Int
}

/// A YAML node as the profile decoder reads it: raw text, never typed (portctl checks every value
/// itself), with its position for diagnostics. Aliases are replaced by the node they name.
indirect enum Node {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Items)

    struct Scalar {
        let string: String
        /// The explicit tag, expanded (`!!null` is `tag:yaml.org,2002:null`); nil when implicit.
        let tag: String?
        /// Written without quotes: only then do `~` and `null` mean null.
        let isPlain: Bool
        let mark: Mark
    }

    struct Mapping: Swift.Sequence {
        let pairs: [(key: Node, value: Node)]
        let mark: Mark
        func makeIterator() -> IndexingIterator<[(key: Node, value: Node)]> { pairs.makeIterator() }
    }

    struct Items: Swift.Sequence {
        let items: [Node]
        let mark: Mark
        func makeIterator() -> IndexingIterator<[Node]> { items.makeIterator() }
        var isEmpty: Bool { items.isEmpty }
    }

    var mark: Mark? {
        switch self {
        case .scalar(let scalar): return scalar.mark
        case .mapping(let mapping): return mapping.mark
        case .sequence(let items): return items.mark
        }
    }

    var scalar: Scalar? {
        if case .scalar(let scalar) = self { return scalar }
        return nil
    }
}

/// Builds the node tree of a one-document YAML text from libyaml's events (libyaml parses; this
/// only assembles), with the errors libyaml and a composer report, each at its line and column.
enum YAMLComposer {
    /// Deeper collections are refused (a profile nests four deep): the composer recurses once per
    /// level, and Debian's libyaml 0.2.5 has no limit of its own.
    static let maxDepth = 64

    struct Failure: Error {
        /// Where: nil for an error of the reader (the bytes), which has no line.
        let mark: Mark?
        let message: String
    }

    /// The document's root node; nil for an empty stream.
    static func compose(_ text: String) throws(Failure) -> Node? {
        var bytes = Array(text.utf8)
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw Failure(mark: nil, message: "not valid YAML: out of memory") }
        defer { yaml_parser_delete(&parser) }
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(Failure) -> Node? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var composer = Composer(parser: &parser)
            return try composer.document()
        }
    }

    private struct Composer: ~Copyable {
        let parser: UnsafeMutablePointer<yaml_parser_t>
        var anchors: [String: Node] = [:]
        var depth = 0

        init(parser: UnsafeMutablePointer<yaml_parser_t>) { self.parser = parser }

        /// One event; the caller deletes it.
        func next() throws(Failure) -> yaml_event_t {
            var event = yaml_event_t()
            guard yaml_parser_parse(parser, &event) == 1 else { throw failure() }
            return event
        }

        func failure() -> Failure {
            let problem = parser.pointee.problem.map { String(cString: $0) } ?? "unknown error"
            if parser.pointee.error == YAML_READER_ERROR {
                return Failure(mark: nil, message: "not valid YAML: \(problem) (profiles must be UTF-8 text)")
            }
            let mark = Mark(line: Int(parser.pointee.problem_mark.line) + 1, column: Int(parser.pointee.problem_mark.column) + 1)
            return Failure(mark: mark, message: "not valid YAML: \(problem)")
        }

        mutating func document() throws(Failure) -> Node? {
            var event = try next()  // stream start
            yaml_event_delete(&event)
            event = try next()
            defer { yaml_event_delete(&event) }
            guard event.type == YAML_DOCUMENT_START_EVENT else { return nil }
            var first = try next()
            let root = try node(from: &first)
            var end = try next()  // document end
            yaml_event_delete(&end)
            var after = try next()
            defer { yaml_event_delete(&after) }
            if after.type != YAML_STREAM_END_EVENT {
                throw Failure(mark: Self.mark(after), message: "not valid YAML: but found another document")
            }
            return root
        }

        static func mark(_ event: yaml_event_t) -> Mark {
            Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        }

        static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            pointer.map { String(cString: $0) }
        }

        /// The node that `event` starts; consumes and deletes `event` and everything inside the node.
        mutating func node(from event: inout yaml_event_t) throws(Failure) -> Node {
            defer { yaml_event_delete(&event) }
            let mark = Self.mark(event)
            switch event.type {
            case YAML_ALIAS_EVENT:
                guard let name = Self.text(event.data.alias.anchor), let node = anchors[name] else {
                    throw Failure(mark: mark, message: "not valid YAML: found undefined alias")
                }
                return node
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let string = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                let node = Node.scalar(
                    Node.Scalar(string: string, tag: Self.text(scalar.tag), isPlain: scalar.style == YAML_PLAIN_SCALAR_STYLE, mark: mark))
                if let anchor = Self.text(scalar.anchor) { anchors[anchor] = node }
                return node
            case YAML_SEQUENCE_START_EVENT where depth >= YAMLComposer.maxDepth,
                YAML_MAPPING_START_EVENT where depth >= YAMLComposer.maxDepth:
                throw Failure(
                    mark: mark,
                    message: "not valid YAML: lists and mappings nested more than \(YAMLComposer.maxDepth) deep; a profile needs 4")
            case YAML_SEQUENCE_START_EVENT:
                depth += 1
                defer { depth -= 1 }
                let anchor = Self.text(event.data.sequence_start.anchor)
                var items: [Node] = []
                while true {
                    var inner = try next()
                    if inner.type == YAML_SEQUENCE_END_EVENT {
                        yaml_event_delete(&inner)
                        break
                    }
                    items.append(try node(from: &inner))
                }
                let node = Node.sequence(Node.Items(items: items, mark: mark))
                if let anchor { anchors[anchor] = node }
                return node
            case YAML_MAPPING_START_EVENT:
                depth += 1
                defer { depth -= 1 }
                let anchor = Self.text(event.data.mapping_start.anchor)
                var pairs: [(key: Node, value: Node)] = []
                while true {
                    var inner = try next()
                    if inner.type == YAML_MAPPING_END_EVENT {
                        yaml_event_delete(&inner)
                        break
                    }
                    let key = try node(from: &inner)
                    var valueEvent = try next()
                    pairs.append((key, try node(from: &valueEvent)))
                }
                try Self.checkDuplicates(pairs)
                let node = Node.mapping(Node.Mapping(pairs: pairs, mark: mark))
                if let anchor { anchors[anchor] = node }
                return node
            default:
                throw Failure(mark: mark, message: "not valid YAML: unexpected event")
            }
        }

        /// A key written twice in one mapping: named (all of them, sorted) at the first such key.
        static func checkDuplicates(_ pairs: [(key: Node, value: Node)]) throws(Failure) {
            var seen: [String: Mark] = [:]
            var duplicates: [String: Mark] = [:]
            for (key, _) in pairs {
                guard let scalar = key.scalar else { continue }
                if let first = seen[scalar.string] {
                    duplicates[scalar.string] = first
                } else {
                    seen[scalar.string] = scalar.mark
                }
            }
            guard let first = duplicates.keys.min() else { return }
            let names = duplicates.keys.sorted().joined(separator: "', '")
            throw Failure(mark: duplicates[first], message: "key '\(names)' appears twice in one mapping")
        }
    }
}
