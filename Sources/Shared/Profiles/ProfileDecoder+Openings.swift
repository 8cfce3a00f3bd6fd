import PortModel

extension ProfileDecoder {
    // MARK: - Openings

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
            report(
                at: idMark,
                "duplicate opening id '\(Shown.value(id))' (first defined at line \(first.line)); ids must be unique within a profile")
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
                report(
                    at: mark,
                    "\(label): unknown service '\(Shown.value(text))'\(Suggestion.hint(for: text, in: Service.allCases.map(\.rawValue))) (expected one of: \(Service.names))"
                )
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
                report(
                    at: mark,
                    "\(label) is open to source set '\(Shown.value(text))', which is not declared\(Suggestion.hint(for: text, in: known)) (use world, loopback, admins, broadcasters, or declare it under sources:)"
                )
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
                report(
                    at: mark,
                    "\(label) is enabled when '\(Shown.value(text))', which is not an option of this profile\(Suggestion.hint(for: text, in: declared)) (\(listing); declare it under options:)"
                )
                valid = false
            }
        }

        var conflicts: String?
        if let (text, mark) = optionalStringWithMark(fields, "conflicts") {
            if ConflictKind.all.contains(text) {
                conflicts = text
            } else {
                report(
                    at: mark,
                    "\(label): unknown conflict kind '\(Shown.value(text))'\(Suggestion.hint(for: text, in: ConflictKind.all)) (expected: \(ConflictKind.all.joined(separator: ", ")))"
                )
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
        struct Item {
            let spec: PortSpec
            let opening: Int
        }
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
            let laterOpening = openings[later.opening]
            let earlierOpening = openings[earlier.opening]
            guard reported.insert("\(laterOpening.id) \(later.spec)").inserted else { continue }
            let mark = portMarks[laterOpening.id]?.first(where: { $0.0 == later.spec })?.1
            let line = openingMarks[earlierOpening.id].map { " (line \($0.line))" } ?? ""
            report(
                at: mark,
                "opening '\(Shown.value(laterOpening.id))' opens \(later.spec), which overlaps \(earlier.spec) of opening '\(Shown.value(earlierOpening.id))'\(line)",
                severity: .warning)
        }
    }
}
