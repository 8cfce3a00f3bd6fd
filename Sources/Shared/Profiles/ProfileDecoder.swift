import Yams
import PortModel

/// Reads a profile from YAML text and checks every field.
///
/// It never stops at the first problem: each one becomes a `Diagnostic` with file:line:column,
/// the bad value and what would be valid. A `Profile` is returned only when there is no error.
public struct ProfileDecoder {
    static let topKeys = ["name", "title", "description", "source", "options", "sources", "openings"]
    package static let openingKeys = ["id", "purpose", "ports", "service", "direction", "from", "when", "conflicts"]

    let file: String
    let expectedName: String?
    var diagnostics: [Diagnostic] = []

    public struct Result: Sendable {
        public let profile: Profile?
        public let diagnostics: [Diagnostic]
    }

    /// Decodes `text`; `file` names it in diagnostics and becomes the profile's origin.
    /// With `expectedName`, the profile's `name:` must match it (the file name in a profile directory).
    public static func decode(_ text: String, file: String, expectedName: String? = nil) -> Result {
        var decoder = ProfileDecoder(file: file, expectedName: expectedName)
        let profile = decoder.run(text)
        let errors = decoder.diagnostics.hasErrors
        return Result(profile: errors ? nil : profile, diagnostics: decoder.diagnostics)
    }

    /// The largest profile file portctl reads: ample for any server, and a bound on the work.
    public static let maxFileSize = 1 << 20

    /// Decodes a file's bytes: they must be UTF-8 (the first bad byte is reported with its line and
    /// column, rather than silently turned into U+FFFD) and at most `maxFileSize` long.
    public static func decode(data: [UInt8], file: String, expectedName: String? = nil) -> Result {
        var decoder = ProfileDecoder(file: file, expectedName: expectedName)
        if data.count > maxFileSize {
            decoder.diagnostics.append(Diagnostic(
                file: file, line: 1, column: 1, severity: .error,
                message: "the file is \(data.count) bytes; a profile may be at most \(maxFileSize) bytes (1 MiB)"))
            return Result(profile: nil, diagnostics: decoder.diagnostics)
        }
        if let (offset, line, column) = firstInvalidUTF8(data) {
            decoder.diagnostics.append(Diagnostic(
                file: file, line: line, column: column, severity: .error,
                message: "not valid UTF-8 (byte 0x\(data[offset] < 16 ? "0" : "")\(String(data[offset], radix: 16)) at offset \(offset)); profiles must be UTF-8 text"))
            return Result(profile: nil, diagnostics: decoder.diagnostics)
        }
        return decode(String(decoding: data, as: UTF8.self), file: file, expectedName: expectedName)
    }

    /// The offset, line and column (in characters) of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(_ data: [UInt8]) -> (Int, Int, Int)? {
        var iterator = data.makeIterator()
        var decoder = UTF8()
        var offset = 0
        var line = 1
        var column = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                offset += UTF8.width(scalar)
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput:
                return nil
            case .error:
                return (min(offset, data.count - 1), line, column)
            }
        }
    }

    mutating func run(_ text: String) -> Profile? {
        if let refusal = AliasGuard.check(text) {
            diagnostics.append(Diagnostic(file: file, line: refusal.line, column: refusal.column, severity: .error, message: refusal.message))
            return nil
        }
        let root: Node?
        do {
            // The basic resolver tags every scalar as a string: portctl reads raw text and checks it
            // itself, and skips the regex matching that implicit typing costs on every scalar.
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            reportYAML(error)
            return nil
        } catch {
            report(at: nil, "not valid YAML: \(error)")
            return nil
        }
        guard let root else {
            report(at: nil, "the file is empty; a profile needs name, title, source and openings")
            return nil
        }
        guard case .mapping(let top) = root else {
            report(at: root.mark, "a profile must be a YAML mapping with the keys name, title, source and openings, not a \(kind(of: root))")
            return nil
        }
        let fields = checkKeys(top, allowed: Self.topKeys, context: "profile")

        let name = requiredString(fields, "name", in: top, hint: "the profile's name, e.g. name: dss")
        if let (value, mark) = name, !Names.isProfileName(value) {
            report(at: mark, "profile name '\(Shown.value(value))' is not valid (\(Names.profileRule))")
        } else if let (value, mark) = name, let expectedName, value != expectedName {
            report(at: mark, "profile name '\(Shown.value(value))' does not match its file name '\(expectedName).yaml'; rename one of them")
        }
        let title = requiredString(fields, "title", in: top, hint: "a one-line title, e.g. title: Darwin Streaming Server")
        let source = requiredString(fields, "source", in: top, hint: "where the ports come from: a document, URL or source file")
        let description = optionalString(fields, "description")

        let options = namedDescriptions(fields["options"], what: "option")
        let sourceSets = namedDescriptions(fields["sources"], what: "source set")
        for (setName, mark) in sourceSets.marks where ["world", "loopback"] + SourceRef.builtinSets ~= setName {
            report(at: mark, "source set '\(Shown.value(setName))' is built in; remove it from sources:")
        }

        var openings: [Opening] = []
        let topMisspelt = misspelt
        if let node = fields["openings"] {
            openings = decodeOpenings(node, options: options.values, sourceSets: sourceSets.values)
        } else if !topMisspelt.contains("openings") {
            report(at: top.mark, "missing required key 'openings' (a list of openings, each with id, purpose and ports)")
        }
        warnAboutOverlaps(openings)

        guard let name, let title, let source else { return nil }
        return Profile(
            name: name.0, title: title.0, description: description, source: source.0,
            options: options.values, sourceSets: sourceSets.values, openings: openings, origin: file)
    }

    // MARK: - Openings

    private var openingMarks: [String: Mark] = [:]
    /// Keys a misspelt key most likely meant: already reported, so not reported again as missing.
    private var misspelt: Set<String> = []
    private var portMarks: [String: [(PortSpec, Mark?)]] = [:]

    mutating func decodeOpenings(_ node: Node, options: [String: String], sourceSets: [String: String]) -> [Opening] {
        guard case .sequence(let sequence) = node else {
            report(at: node.mark, "openings must be a list (each item starts with '- id:'), not a \(kind(of: node))")
            return []
        }
        if sequence.isEmpty {
            report(at: node.mark, "openings is empty; a profile must open at least one port")
        }
        var result: [Opening] = []
        for item in sequence {
            if let opening = decodeOpening(item, options: options, sourceSets: sourceSets) {
                result.append(opening)
            }
        }
        return result
    }

    mutating func decodeOpening(_ node: Node, options: [String: String], sourceSets: [String: String]) -> Opening? {
        guard case .mapping(let map) = node else {
            report(at: node.mark, "an opening must be a mapping with id, purpose and ports, not a \(kind(of: node))")
            return nil
        }
        let fields = checkKeys(map, allowed: Self.openingKeys, context: "opening")
        var valid = true

        guard let (id, idMark) = requiredString(fields, "id", in: map, hint: "a short name, e.g. id: rtsp") else { return nil }
        let label = "opening '\(Shown.value(id))'"
        if !Names.isIdentifier(id) {
            report(at: idMark, "opening id '\(Shown.value(id))' is not valid (\(Names.identifierRule))")
            valid = false
        }
        if let first = openingMarks[id] {
            report(at: idMark, "duplicate opening id '\(Shown.value(id))' (first defined at line \(first.line)); ids must be unique within a profile")
            valid = false
        } else if let idMark {
            openingMarks[id] = idMark
        }

        let purpose = requiredString(fields, "purpose", in: map, hint: "why the port is needed, e.g. purpose: RTSP requests from clients")
        if purpose == nil { valid = false }

        var ports: [PortSpec] = []
        var seen = Set<PortSpec>()
        var marks: [(PortSpec, Mark?)] = []
        if let portsNode = fields["ports"] {
            let items: [Node]
            switch portsNode {
            case .sequence(let sequence): items = Array(sequence)
            case .scalar: items = isNull(portsNode) ? [] : [portsNode]
            default: items = [portsNode]
            }
            if items.isEmpty {
                report(at: portsNode.mark, "\(label) has no ports; list at least one, e.g. ports: [554/tcp, 6970-6999/udp]")
                valid = false
            }
            for item in items {
                guard case .scalar(let scalar) = item else {
                    report(at: item.mark, "a port must be written like 554/tcp or 6970-6999/udp, not a \(kind(of: item))")
                    valid = false
                    continue
                }
                do {
                    let spec = try PortSpec(parsing: scalar.string)
                    if !seen.insert(spec).inserted {
                        report(at: item.mark, "\(label) lists \(spec) twice", severity: .warning)
                    } else {
                        ports.append(spec)
                        marks.append((spec, item.mark))
                    }
                } catch {
                    report(at: item.mark, "\(label): \(error.description)")
                    valid = false
                }
            }
        } else {
            if !misspelt.contains("ports") { report(at: map.mark, "\(label) is missing required key 'ports' (e.g. ports: [554/tcp])") }
            valid = false
        }

        var service = Service.other
        if let (text, mark) = optionalStringWithMark(fields, "service") {
            if let value = Service(rawValue: text) {
                service = value
            } else {
                report(at: mark, "\(label): unknown service '\(Shown.value(text))'\(Suggestion.hint(for: text, in: Service.allCases.map(\.rawValue))) (expected one of: \(Service.names))")
                valid = false
            }
        }

        var direction = Direction.in
        if let (text, mark) = optionalStringWithMark(fields, "direction") {
            if let value = Direction(rawValue: text) {
                direction = value
            } else {
                report(at: mark, "\(label): unknown direction '\(Shown.value(text))' (expected in, out or both)")
                valid = false
            }
        }

        var from = SourceRef.world
        if let (text, mark) = optionalStringWithMark(fields, "from") {
            let known = ["world", "loopback"] + SourceRef.builtinSets + sourceSets.keys.sorted()
            if known.contains(text) {
                from = SourceRef(name: text)
            } else {
                report(at: mark, "\(label) is open to source set '\(Shown.value(text))', which is not declared\(Suggestion.hint(for: text, in: known)) (use world, loopback, admins, broadcasters, or declare it under sources:)")
                valid = false
            }
        }

        var when: String?
        if let (text, mark) = optionalStringWithMark(fields, "when") {
            if options[text] != nil {
                when = text
            } else {
                let declared = options.keys.sorted()
                let listing = declared.isEmpty ? "this profile declares no options" : "options: \(declared.joined(separator: ", "))"
                report(at: mark, "\(label) is enabled when '\(Shown.value(text))', which is not an option of this profile\(Suggestion.hint(for: text, in: declared)) (\(listing); declare it under options:)")
                valid = false
            }
        }

        var conflicts: String?
        if let (text, mark) = optionalStringWithMark(fields, "conflicts") {
            if ConflictKind.all.contains(text) {
                conflicts = text
            } else {
                report(at: mark, "\(label): unknown conflict kind '\(Shown.value(text))'\(Suggestion.hint(for: text, in: ConflictKind.all)) (expected: \(ConflictKind.all.joined(separator: ", ")))")
                valid = false
            }
        }

        guard valid, let purpose else { return nil }
        portMarks[id] = marks
        return Opening(
            id: id, purpose: purpose.0, ports: ports, service: service, direction: direction, from: from,
            when: when, conflicts: conflicts)
    }

    /// Two openings of one profile that open the same port are legal but usually a mistake.
    /// A sweep over all ranges sorted by start finds every overlap in O(n log n) plus the overlaps.
    mutating func warnAboutOverlaps(_ openings: [Opening]) {
        struct Item { let spec: PortSpec; let opening: Int }
        let items = openings.enumerated().flatMap { index, opening in opening.ports.map { Item(spec: $0, opening: index) } }
        var found: [(later: Item, earlier: Item)] = []
        for transport in Transport.allCases {
            let sorted = items.filter { $0.spec.transport == transport }.sorted { $0.spec.range < $1.spec.range }
            var active: [Item] = []
            for item in sorted {
                active.removeAll { $0.spec.range.high < item.spec.range.low }
                for other in active where other.opening != item.opening {
                    found.append(item.opening > other.opening ? (item, other) : (other, item))
                }
                active.append(item)
            }
        }
        var reported = Set<String>()
        for (later, earlier) in found.sorted(by: { ($0.later.opening, $0.later.spec) < ($1.later.opening, $1.later.spec) }) {
            let laterOpening = openings[later.opening], earlierOpening = openings[earlier.opening]
            guard reported.insert("\(laterOpening.id) \(later.spec)").inserted else { continue }
            let mark = portMarks[laterOpening.id]?.first(where: { $0.0 == later.spec })?.1
            let line = openingMarks[earlierOpening.id].map { " (line \($0.line))" } ?? ""
            report(at: mark, "opening '\(Shown.value(laterOpening.id))' opens \(later.spec), which overlaps \(earlier.spec) of opening '\(Shown.value(earlierOpening.id))'\(line)", severity: .warning)
        }
    }

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
                report(at: keyNode.mark, "unknown key '\(Shown.value(key))' in \(context)\(suggestion.map { "; did you mean '\($0)'?" } ?? "") (valid keys: \(allowed.joined(separator: ", ")))")
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

    mutating func reportYAML(_ error: YamlError) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            report(at: mark, "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            report(at: context.mark, "key '\(duplicates.joined(separator: "', '"))' appears twice in one mapping")
        case .reader(let problem, _, _, _):
            report(at: nil, "not valid YAML: \(problem) (profiles must be UTF-8 text)")
        default:
            report(at: nil, "not valid YAML: \(error)")
        }
    }

    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.tag.description == "tag:yaml.org,2002:null" || (scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string))
    }

    func kind(of node: Node) -> String {
        switch node {
        case .scalar: return "single value"
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "alias"
        }
    }
}

private func ~= (array: [String], value: String) -> Bool { array.contains(value) }
