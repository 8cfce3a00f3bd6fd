import PortModel

extension ProfileDecoder {
    // MARK: - Field helpers

    /// Reports unknown and duplicate keys; returns the known ones.
    mutating func checkKeys(_ mapping: Node.Mapping, allowed: [String], context: String) -> [String: Node] {
        misspelt = []
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report(at: keyNode.mark, "a \(context) key must be a plain word, not a \(kind(of: keyNode))")
                continue
            }
            let key = scalar.string
            if !allowed.contains(key) {
                let suggestion = Suggestion.closest(to: key, in: allowed)
                if let suggestion, mapping.first(where: { ($0.key.scalar?.string) == suggestion }) == nil {
                    misspelt.insert(suggestion)
                }
                report(
                    at: keyNode.mark,
                    "unknown key '\(Shown.value(key))' in \(context)\(suggestion.map { "; did you mean '\($0)'?" } ?? "") (valid keys: \(allowed.joined(separator: ", ")))"
                )
                continue
            }
            if fields[key] != nil {
                report(at: keyNode.mark, "key '\(Shown.value(key))' appears twice in one \(context)")
                continue
            }
            fields[key] = value
        }
        return fields
    }

    mutating func requiredString(_ fields: [String: Node], _ key: String, in mapping: Node.Mapping, hint: String) -> (String, Mark?)? {
        guard let node = fields[key] else {
            if !misspelt.contains(key) { report(at: mapping.mark, "missing required key '\(Shown.value(key))' (\(hint))") }
            return nil
        }
        return string(node, key: key)
    }

    mutating func optionalString(_ fields: [String: Node], _ key: String) -> String? {
        optionalStringWithMark(fields, key)?.0
    }

    mutating func optionalStringWithMark(_ fields: [String: Node], _ key: String) -> (String, Mark?)? {
        guard let node = fields[key] else { return nil }
        return string(node, key: key)
    }

    mutating func string(_ node: Node, key: String) -> (String, Mark?)? {
        guard case .scalar(let scalar) = node else {
            report(at: node.mark, "'\(Shown.value(key))' must be text, not a \(kind(of: node))")
            return nil
        }
        let text = scalar.string.trimmingWhitespace()
        if text.isEmpty || isNull(node) {
            report(at: node.mark, "'\(Shown.value(key))' is empty")
            return nil
        }
        if text.unicodeScalars.contains(where: { Shown.isUnsafe($0) && $0 != "\n" && $0 != "\t" }) {
            report(at: node.mark, "'\(Shown.value(key))' contains control characters")
            return nil
        }
        return (text, node.mark)
    }

    struct Named {
        var values: [String: String] = [:]
        var marks: [(String, Mark?)] = []
    }

    /// Reads `options:` or `sources:`, a mapping of name to description.
    mutating func namedDescriptions(_ node: Node?, what: String) -> Named {
        var named = Named()
        guard let node else { return named }
        guard case .mapping(let map) = node else {
            report(at: node.mark, "\(what)s must be a mapping of name to description, e.g. port80: Stream on port 80")
            return named
        }
        for (keyNode, value) in map {
            guard case .scalar(let key) = keyNode, Names.isIdentifier(key.string) else {
                let text: String
                if case .scalar(let scalar) = keyNode { text = scalar.string } else { text = kind(of: keyNode) }
                report(at: keyNode.mark, "\(what) name '\(Shown.value(text))' is not valid (\(Names.identifierRule))")
                continue
            }
            guard let (description, _) = string(value, key: key.string) else { continue }
            if named.values[key.string] != nil {
                report(at: keyNode.mark, "\(what) '\(Shown.value(key.string))' is declared twice")
                continue
            }
            named.values[key.string] = description
            named.marks.append((key.string, keyNode.mark))
        }
        return named
    }

    // MARK: - Reporting

    mutating func report(at mark: Mark?, _ message: String, severity: Diagnostic.Severity = .error) {
        diagnostics.append(
            Diagnostic(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, severity: severity, message: message))
    }

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.tag == "tag:yaml.org,2002:null" || (scalar.isPlain && ["", "~", "null", "Null", "NULL"].contains(scalar.string))
    }

    func kind(of node: Node) -> String {
        switch node {
        case .scalar: return "single value"
        case .mapping: return "mapping"
        case .sequence: return "list"
        }
    }
}
