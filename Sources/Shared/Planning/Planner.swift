import PortModel

/// Turns profiles and options into a `Plan`.
///
/// It resolves source sets (admin ports default to loopback, other sets stay closed until the admin
/// names members or asks for `--world`), merges overlapping and adjacent ranges per transport and scope,
/// and keeps the provenance of every port.
public enum Planner {
    /// Ranges wider than this, open to everyone, earn a warning.
    public static let wideRangeThreshold = 100

    public static func plan(_ request: PlanRequest) -> Plan {
        var warnings: [PlanWarning] = []
        var closed: [ClosedOpening] = []
        var resolved: [ResolvedOpening] = []
        var scopes: [String: Scope] = [:]

        let referenced = Set(request.profiles.flatMap { $0.openings.map(\.from) })
        for ref in referenced.sorted() {
            scopes[ref.name] = resolve(ref, request: request)
        }

        for profile in request.profiles {
            for opening in profile.openings {
                if let option = opening.when, !request.options.contains(option) { continue }
                let scope = scopes[opening.from.name] ?? .world
                if case .set(let name) = opening.from, request.sourceSets[name]?.isEmpty ?? true, !request.world,
                    name != "admins"
                {
                    closed.append(
                        ClosedOpening(
                            profile: profile.name, opening: opening.id, ports: opening.ports, sourceSet: name,
                            reason: "no \(name) declared"))
                    continue
                }
                resolved.append(ResolvedOpening(profile: profile.name, opening: opening, scope: scope))
            }
            for item in profile.configuration?.closed ?? [] {
                closed.append(
                    ClosedOpening(
                        profile: profile.name, opening: item.id, ports: item.ports, sourceSet: nil, reason: item.reason,
                        citation: item.citation))
            }
        }

        let entries = merge(resolved)
        warnings += closedWarnings(closed)
        warnings += scopeWarnings(resolved, request: request)
        // A web server's own configuration (nginx's http { } listens) does not conflict with it.
        let webServersOwn = Set(
            resolved.filter { $0.opening.citation != nil && $0.opening.conflicts == nil }.map { "\($0.profile)/\($0.opening.id)" })
        warnings += entryWarnings(entries, webServersOwn: webServersOwn)
        warnings += unreachableWarnings(entries)
        if request.sshPorts.isEmpty {
            warnings.append(
                PlanWarning(
                    code: .noSSHGuard,
                    message: "the SSH guard is off (--no-ssh-guard): a standalone ruleset drops SSH unless the plan opens it"))
        }
        let usedSets = Set(referenced.map(\.name))
        for name in request.sourceSets.keys.sorted() where !usedSets.contains(name) {
            warnings.append(
                PlanWarning(
                    code: .unusedSourceSet,
                    message:
                        "source set '\(name)' was given members, but no opening of \(request.profiles.map(\.name).joined(separator: ", ")) is limited to it; the flag has no effect"
                ))
        }

        return Plan(
            profiles: request.profiles, options: request.options.sorted(), scopes: scopes, entries: entries,
            openings: resolved, closed: closed, warnings: warnings, sshPorts: request.sshPorts.sorted())
    }

    static func resolve(_ ref: SourceRef, request: PlanRequest) -> Scope {
        switch ref {
        case .world: return .world
        case .loopback: return .loopback
        case .set(let name):
            if let cidrs = request.sourceSets[name], !cidrs.isEmpty {
                return .addresses(set: name, cidrs: normalize(cidrs))
            }
            if request.world { return .world }
            return name == "admins" ? .loopback : .addresses(set: name, cidrs: [])
        }
    }

    /// Sorts CIDRs and drops those another one already covers, in O(n log n).
    ///
    /// In (family, address, prefix) order a network comes before every network it contains, and
    /// anything kept in between lies outside it; so comparing with the last kept one is enough.
    package static func normalize(_ cidrs: [CIDR]) -> [CIDR] {
        var kept: [CIDR] = []
        for cidr in Set(cidrs).sorted() {
            if let last = kept.last, last.contains(cidr) { continue }
            kept.append(cidr)
        }
        return kept
    }

    /// Merges ranges that overlap or touch, per scope and transport, keeping every contribution.
    static func merge(_ openings: [ResolvedOpening]) -> [PlanEntry] {
        struct Key: Hashable {
            let scope: Scope
            let destination: CIDR?
            let transport: Transport
        }
        var groups: [Key: [(PortRange, Contribution)]] = [:]
        for resolved in openings {
            for spec in resolved.opening.ports {
                let contribution = Contribution(
                    profile: resolved.profile, opening: resolved.opening.id, purpose: resolved.opening.purpose,
                    service: resolved.opening.service, direction: resolved.opening.direction, spec: spec,
                    citation: resolved.opening.citation)
                let key = Key(scope: resolved.scope, destination: resolved.opening.destination, transport: spec.transport)
                groups[key, default: []].append((spec.range, contribution))
            }
        }
        var entries: [PlanEntry] = []
        for (key, items) in groups {
            let sorted = items.sorted { $0.0 < $1.0 }
            var current: (range: PortRange, contributions: [Contribution])?
            func flush() {
                guard let current else { return }
                entries.append(
                    PlanEntry(
                        transport: key.transport, range: current.range, scope: key.scope, destination: key.destination,
                        direction: combined(current.contributions.map(\.direction)),
                        contributions: current.contributions))
            }
            for (range, contribution) in sorted {
                if let open = current, open.range.touches(range) {
                    let high = max(open.range.high, range.high)
                    current = (try! PortRange(open.range.low, high), open.contributions + [contribution])
                } else {
                    flush()
                    current = (range, [contribution])
                }
            }
            flush()
        }
        return entries.sorted {
            let left = $0.destination.map { [$0] } ?? []
            let right = $1.destination.map { [$0] } ?? []
            if ($0.scope, $0.transport, $0.range) == ($1.scope, $1.transport, $1.range) { return left.lexicographicallyPrecedes(right) }
            return ($0.scope, $0.transport, $0.range) < ($1.scope, $1.transport, $1.range)
        }
    }

    static func combined(_ directions: [Direction]) -> Direction {
        let set = Set(directions)
        if set.count == 1, let only = set.first { return only }
        return .both
    }

    static func closedWarnings(_ closed: [ClosedOpening]) -> [PlanWarning] {
        closed.compactMap { item in
            let ports = item.ports.map(\.description).joined(separator: ", ")
            guard let set = item.sourceSet else { return nil }
            let flag = set == "broadcasters" ? "--broadcaster ADDR" : "--source-set \(set)=CIDR"
            return PlanWarning(
                code: .setClosed,
                message:
                    "\(item.profile)/\(item.opening) (\(ports)) is left closed: no \(set) declared; admit them with \(flag), or open it to everyone with --world"
            )
        }
    }

    static func scopeWarnings(_ openings: [ResolvedOpening], request: PlanRequest) -> [PlanWarning] {
        var warnings: [PlanWarning] = []
        for item in openings where item.opening.from == .admins || item.opening.service == .admin {
            let ports = item.opening.ports.map(\.description).joined(separator: ", ")
            switch item.scope {
            case .loopback where item.opening.from == .admins:
                warnings.append(
                    PlanWarning(
                        code: .adminLoopback,
                        message:
                            "\(item.profile)/\(item.opening.id) (\(ports)) is open to loopback only: no admins declared; allow remote administration with --admin-from CIDR"
                    ))
            case .world:
                warnings.append(
                    PlanWarning(
                        code: .adminWorld,
                        message:
                            "\(item.profile)/\(item.opening.id) (\(ports)) is an admin port reachable from everywhere; limit it with --admin-from CIDR"
                    ))
            default: break
            }
        }
        return warnings
    }

    /// An opening limited to one local address of a family that none of its source set's members
    /// has: no packet can match it, so no rule opens it.
    static func unreachableWarnings(_ entries: [PlanEntry]) -> [PlanWarning] {
        entries.compactMap { entry in
            guard let destination = entry.destination, case .addresses(let set, let cidrs) = entry.scope, !cidrs.isEmpty,
                !cidrs.contains(where: { $0.family == destination.family })
            else { return nil }
            let family = destination.family == .ipv4 ? "IPv4" : "IPv6"
            return PlanWarning(
                code: .setClosed,
                message:
                    "\(entry.spec) (\(entry.labels.joined(separator: ", "))) listens on \(destination.addressText) only, but no member of \(set) is \(family): no rule opens it; add an \(family) member"
            )
        }
    }

    static func entryWarnings(_ entries: [PlanEntry], webServersOwn: Set<String> = []) -> [PlanWarning] {
        var warnings: [PlanWarning] = []
        for entry in entries where entry.scope == .world && entry.range.count > wideRangeThreshold {
            warnings.append(
                PlanWarning(
                    code: .wideRangeWorld,
                    message:
                        "\(entry.spec) (\(entry.range.count) ports, \(entry.labels.joined(separator: ", "))) is open to the whole Internet; limit it to your encoders with --broadcaster ADDR"
                ))
        }
        let http = try! PortNumber(80)
        for entry in entries where entry.transport == .tcp && entry.range.contains(http) && entry.scope != .loopback {
            if entry.labels.allSatisfy(webServersOwn.contains) { continue }
            warnings.append(
                PlanWarning(
                    code: .port80,
                    message:
                        "80/tcp (\(entry.labels.joined(separator: ", "))) is the web server's port: make sure no web server such as Apache or nginx listens on it or starts at boot"
                ))
        }
        return warnings
    }
}
