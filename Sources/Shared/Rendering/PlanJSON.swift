import PortModel
import PortPlanning

/// Renders a plan as portctl's own JSON schema, `portctl.plan` version 1 (documented in portctl(8)).
///
/// Fields are only ever added within a version; a change that breaks readers raises `version`.
public enum PlanJSON {
    public static let schema = "portctl.plan"
    public static let version = 1

    public static func render(_ plan: Plan) -> JSONValue {
        let ruleset = RulesetBuilder.standalone(plan)
        return .object([
            ("schema", .string(schema)),
            ("version", .int(version)),
            ("profiles", .array(plan.profiles.map(profile))),
            ("options", .array(plan.options.map { .string($0) })),
            ("sources", .array(plan.scopes.keys.sorted().map { source($0, plan.scopes[$0]!, plan: plan) })),
            ("ssh_guard", .array(plan.sshPorts.map { .int(Int($0.value)) })),
            ("openings", .array(plan.entries.map(entry))),
            ("closed", .array(plan.closed.map(closed))),
            ("warnings", .array(plan.warnings.map { .object([("code", .string($0.code.rawValue)), ("message", .string($0.message))]) })),
            (
                "nftables",
                .object([
                    ("table", .string("inet \(ruleset.table)")), ("rules", .int(ruleset.ruleCount)), ("sets", .int(ruleset.sets.count)),
                ])
            ),
        ])
    }

    static func profile(_ profile: Profile) -> JSONValue {
        .object([
            ("name", .string(profile.name)), ("title", .string(profile.title)), ("origin", .string(profile.origin)),
            ("source", .string(profile.source)),
            (
                "configuration",
                profile.configuration.map { configuration in
                    .object([
                        ("kind", .string(configuration.kind)), ("path", .string(configuration.path)),
                        ("files", .array(configuration.files.map { .string($0) })),
                    ])
                } ?? .null
            ),
        ])
    }

    static func source(_ name: String, _ scope: Scope, plan: Plan) -> JSONValue {
        let isClosed = plan.closed.contains { $0.sourceSet == name }
        var fields: [(String, JSONValue)] = [("name", .string(name))]
        switch scope {
        case .world: fields += [("scope", .string("world")), ("addresses", .array([]))]
        case .loopback: fields += [("scope", .string("loopback")), ("addresses", .array([]))]
        case .addresses(_, let cidrs):
            fields.append(("scope", .string(isClosed || cidrs.isEmpty ? "closed" : "addresses")))
            fields.append(("addresses", .array(cidrs.map { .string($0.description) })))
        }
        return .object(fields)
    }

    /// An opening names its source set; the set's members appear once, under `sources`, however
    /// many openings use it (a 10,000-network allow-list must not be copied into every opening).
    static func entry(_ entry: PlanEntry) -> JSONValue {
        .object([
            ("ports", .string(entry.range.description)),
            ("port_low", .int(Int(entry.range.low.value))),
            ("port_high", .int(Int(entry.range.high.value))),
            ("transport", .string(entry.transport.rawValue)),
            ("direction", .string(entry.direction.rawValue)),
            ("from", .string(entry.scope.name)),
            ("destination", entry.destination.map { .string($0.addressText) } ?? .null),
            (
                "provenance",
                .array(
                    entry.contributions.map { contribution in
                        .object([
                            ("profile", .string(contribution.profile)), ("opening", .string(contribution.opening)),
                            ("ports", .string(contribution.spec.description)), ("service", .string(contribution.service.rawValue)),
                            ("direction", .string(contribution.direction.rawValue)), ("purpose", .string(contribution.purpose)),
                            ("citation", contribution.citation.map { .string($0) } ?? .null),
                        ])
                    })
            ),
        ])
    }

    static func closed(_ item: ClosedOpening) -> JSONValue {
        .object([
            ("profile", .string(item.profile)), ("opening", .string(item.opening)),
            ("ports", .array(item.ports.map { .string($0.description) })),
            ("source_set", item.sourceSet.map { .string($0) } ?? .null), ("reason", .string(item.reason)),
            ("citation", item.citation.map { .string($0) } ?? .null),
        ])
    }
}

extension PlanJSON {
    /// Reads the openings of a stored plan back, for status and doctor.
    public static func entries(from value: JSONValue) -> [PlanEntry] {
        var members: [String: [CIDR]] = [:]
        for source in value["sources"]?.array ?? [] {
            guard let name = source["name"]?.string else { continue }
            members[name] = (source["addresses"]?.array ?? []).compactMap { $0.string.flatMap { try? CIDR(parsing: $0) } }
        }
        return (value["openings"]?.array ?? []).compactMap { item -> PlanEntry? in
            guard let transport = item["transport"]?.string.flatMap(Transport.init(rawValue:)),
                let low = item["port_low"]?.int, let high = item["port_high"]?.int,
                let lowPort = try? PortNumber(low), let highPort = try? PortNumber(high),
                let range = try? PortRange(lowPort, highPort),
                let direction = item["direction"]?.string.flatMap(Direction.init(rawValue:)),
                let from = item["from"]?.string
            else { return nil }
            let scope: Scope
            switch from {
            case "world": scope = .world
            case "loopback": scope = .loopback
            default: scope = .addresses(set: from, cidrs: members[from] ?? [])
            }
            let contributions = (item["provenance"]?.array ?? []).compactMap { part -> Contribution? in
                guard let profile = part["profile"]?.string, let opening = part["opening"]?.string,
                    let spec = part["ports"]?.string.flatMap({ try? PortSpec(parsing: $0) })
                else { return nil }
                return Contribution(
                    profile: profile, opening: opening, purpose: part["purpose"]?.string ?? "",
                    service: part["service"]?.string.flatMap(Service.init(rawValue:)) ?? .other,
                    direction: part["direction"]?.string.flatMap(Direction.init(rawValue:)) ?? direction, spec: spec,
                    citation: part["citation"]?.string)
            }
            let destination = item["destination"]?.string.flatMap { try? CIDR(parsing: $0) }
            return PlanEntry(
                transport: transport, range: range, scope: scope, destination: destination, direction: direction,
                contributions: contributions)
        }
    }
}
