import CLibYAML
import PortModel

/// Bounds what YAML aliases can cost before the composer builds its node tree.
///
/// An alias (`*name`) repeats the node its anchor (`&name`) marks, so a few lines that alias
/// aliases expand exponentially (the "billion laughs"). The composer shares an aliased node rather
/// than copying it, but every walk over the tree (the duplicate-key check, the decoder) pays for
/// each expansion. This walks libyaml's event stream once, in time linear in the file, and refuses:
///
/// - an alias used as a mapping key (profiles never need one);
/// - a document whose aliases expand it to more than `maxExpandedNodes` nodes.
///
/// Anything libyaml cannot parse is left to the composer, which reports it with its line and column.
enum AliasGuard {
    static let maxExpandedNodes = 100_000

    struct Refusal: Equatable {
        let line: Int
        let column: Int
        let message: String
    }

    static func check(_ text: String) -> Refusal? {
        var bytes = Array(text.utf8)
        guard bytes.contains(UInt8(ascii: "*")) else { return nil }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        return bytes.withUnsafeMutableBufferPointer { buffer -> Refusal? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return walk(&parser)
        }
    }

    /// One open collection: its anchor, the nodes it expands to so far, and (for a mapping)
    /// whether the next node is a key.
    private struct Frame {
        var anchor: String?
        var size = 1
        var isMapping: Bool
        var expectingKey = true
    }

    private static func walk(_ parser: inout yaml_parser_t) -> Refusal? {
        var anchors: [String: Int] = [:]
        var stack: [Frame] = []
        var total = 0
        // Every event is consumed once; the bound only guards against a parser that never ends.
        for _ in 0..<10_000_000 {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            var completed: (size: Int, anchor: String?)?
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                if let top = stack.last, top.isMapping, top.expectingKey {
                    return Refusal(
                        line: line, column: column,
                        message: "an alias (*\(Shown.value(name))) cannot be a key; write the key out")
                }
                completed = (anchors[name] ?? 1, nil)
            case YAML_SCALAR_EVENT:
                completed = (1, event.data.scalar.anchor.map { String(cString: $0) })
            case YAML_SEQUENCE_START_EVENT:
                stack.append(Frame(anchor: event.data.sequence_start.anchor.map { String(cString: $0) }, isMapping: false))
            case YAML_MAPPING_START_EVENT:
                stack.append(Frame(anchor: event.data.mapping_start.anchor.map { String(cString: $0) }, isMapping: true))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                if let frame = stack.popLast() { completed = (frame.size, frame.anchor) }
            default:
                break
            }
            guard let (size, anchor) = completed else { continue }
            if let anchor { anchors[anchor] = size }
            if stack.isEmpty {
                total += size
            } else {
                stack[stack.count - 1].size += size
                if stack[stack.count - 1].isMapping { stack[stack.count - 1].expectingKey.toggle() }
            }
            if total + (stack.first?.size ?? 0) > maxExpandedNodes || size > maxExpandedNodes {
                return Refusal(
                    line: line, column: column,
                    message:
                        "aliases expand this file to more than \(maxExpandedNodes) nodes (an alias bomb?); write the values out instead of aliasing aliases"
                )
            }
        }
        return nil
    }
}
