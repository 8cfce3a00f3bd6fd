import PlanRendering
import PortModel
import PortPlanning

/// What `portctl status` shows: the live generation, its counters, drift, and other tables' drops.
public struct StatusReport: Sendable {
    public struct Row: Sendable {
        public let entry: PlanEntry
        public let packets: Int?
        public let bytes: Int?
        public let verdicts: [BlockingReport]
    }

    /// Objects that differ between what portctl applied and what the kernel holds now.
    public struct Drift: Sendable {
        public let added: [String]
        public let missing: [String]
        public var isEmpty: Bool { added.isEmpty && missing.isEmpty }
    }

    public let generation: Int
    public let meta: StateStore.Meta?
    public let pending: StateStore.Pending?
    public let persisted: Bool
    public let drift: Drift?
    public let rows: [Row]
    public let advice: [BlockingAdvice]
    /// portctl's objects that are live although the state records nothing (another --state-dir, or
    /// a lost one): what `portctl remove` would take out.
    public var unrecorded: [Placement] = []

    public static func build(store: StateStore, backend: any NftablesBackend) throws(ApplyFailure) -> StatusReport {
        let generation = store.current()
        let meta = generation > 0 ? store.meta(generation) : nil
        // Counters come from a full listing; drift is judged on a stateless one, as at apply time.
        let applier = Applier(backend: backend, store: store)
        let markBefore = applier.kernelMark()
        let listingText: String
        let statelessText: String
        do {
            listingText = try backend.listRuleset(json: true, stateless: false)
            statelessText = try backend.listRuleset(json: true, stateless: true)
        } catch {
            throw .from(error, permission: Applier.permissionMessage)
        }
        guard let full = try? JSONValue.parse(listingText), let live = try? LiveRuleset(value: full),
            let listing = try? JSONValue.parse(statelessText)
        else {
            if let text = try? backend.listRuleset(json: false, stateless: true), let owned = Applier.ownedTables(text).first {
                throw .permission(
                    "cannot read the ruleset: table \(owned.table) is owned by another process\(owned.program.map { " (\($0))" } ?? "") with nft's 'flags owner', and libnftables cannot list it as JSON until that process exits"
                )
            }
            throw .rejected(message: "cannot read the live ruleset", offending: nil)
        }
        guard let meta, let placement = Placement(stateText: meta.placement) else {
            var report = StatusReport(
                generation: 0, meta: nil, pending: store.pending(), persisted: store.isPersisted, drift: nil, rows: [], advice: [])
            report.unrecorded = Applier.unrecordedPlacements(live)
            return report
        }
        let entries = store.planJSON(generation).flatMap { try? JSONValue.parse($0) }.map(PlanJSON.entries) ?? []
        var fingerprint = meta.fingerprint
        if fingerprint.isEmpty, let mark = meta.kernelMark, mark == markBefore, applier.kernelMark() == mark {
            // A large plan's fingerprint, not read back at apply time: the kernel has not changed
            // since that commit (before the listings, nor after them), so what is live is what was
            // applied. Recorded now, if no portctl holds the lock.
            fingerprint = Fingerprint.of(listing, placement: placement)
            if let lock = try? store.lock(wait: 0) {
                defer { lock.release() }
                if var updated = store.meta(generation), updated.fingerprint.isEmpty, updated.kernelMark == mark {
                    updated.fingerprint = fingerprint
                    try? store.updateMeta(updated)
                }
            }
        }
        let actual = Fingerprint.owned(listing, placement: placement).map { Fingerprint.stripped($0).compact }
        // Unknown when no fingerprint was recorded and the kernel has changed since the commit.
        let drift: Drift? =
            fingerprint.isEmpty
            ? nil
            : {
                let expected = (try? JSONValue.parse(fingerprint))?.array?.map(\.compact) ?? []
                return Drift(added: actual.filter { !expected.contains($0) }, missing: expected.filter { !actual.contains($0) })
            }()

        let reports = BlockingAnalyzer.analyze(
            live, entries: entries.filter { $0.direction.needsInboundRule }, ownTable: ownTable(placement), ownChain: ownChain(placement))
        let counters = Self.counters(live, placement: placement)
        var verdicts: [String: [BlockingReport]] = [:]
        for report in reports { verdicts[Self.key(report.entry, placement: placement), default: []].append(report) }
        let rows = entries.map { entry in
            let key = Self.key(entry, placement: placement)
            let counter = counters[key]
            return Row(entry: entry, packets: counter?.0, bytes: counter?.1, verdicts: verdicts[key] ?? [])
        }
        return StatusReport(
            generation: generation, meta: meta, pending: store.pending(), persisted: store.isPersisted, drift: drift, rows: rows,
            advice: BlockingAnalyzer.advice(for: reports))
    }

    static func ownTable(_ placement: Placement) -> (family: String, name: String)? {
        if case .standalone(let table) = placement { return ("inet", table) }
        return nil
    }

    static func ownChain(_ placement: Placement) -> (family: String, table: String, chain: String)? {
        if case .attach(let family, let table, _) = placement { return (family, table, Placement.attachedChain) }
        return nil
    }

    static func setName(_ scope: Scope, placement: Placement) -> String {
        let prefix: String
        if case .attach = placement { prefix = Placement.attachedSetPrefix } else { prefix = "" }
        switch scope {
        case .world: return prefix + "world_ports"
        case .loopback: return prefix + "loopback_ports"
        case .addresses(let set, _): return prefix + set.replacingHyphens() + "_ports"
        }
    }

    static func key(_ entry: PlanEntry, placement: Placement) -> String {
        "\(setName(entry.scope, placement: placement)) \(entry.transport.rawValue) \(entry.range)"
    }

    /// Per-element counters of portctl's port sets, keyed like `key(_:placement:)`.
    static func counters(_ live: LiveRuleset, placement: Placement) -> [String: (Int, Int)] {
        var result: [String: (Int, Int)] = [:]
        for set in live.sets where set.family == placement.family && set.table == placement.table {
            for element in set.elements {
                let value = element["elem"]?["val"] ?? element
                guard let parts = value["concat"]?.array, parts.count == 2, let proto = parts[0].string else { continue }
                let range: String
                if let port = parts[1].int {
                    range = String(port)
                } else if let bounds = parts[1]["range"]?.array, bounds.count == 2, let low = bounds[0].int, let high = bounds[1].int {
                    range = low == high ? String(low) : "\(low)-\(high)"
                } else {
                    continue
                }
                let counter = element["elem"]?["counter"]
                result["\(set.name) \(proto) \(range)"] = (counter?["packets"]?.int ?? 0, counter?["bytes"]?.int ?? 0)
            }
        }
        return result
    }
}
