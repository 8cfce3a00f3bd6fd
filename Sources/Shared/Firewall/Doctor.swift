import PlanRendering
import PortModel
import PortPlanning

/// The checks of `portctl doctor`: whether libnftables answers, what the state holds, drift, the
/// SSH guard, and other tables that drop the planned ports. The command gathers the facts (the
/// plan, the SSH ports the host shows) and prints the result; the rules live here.
public enum Doctor {
    public struct Check: Sendable, Equatable {
        public enum Level: String, Sendable { case ok, warn, fail }
        public let name: String
        public let level: Level
        public let detail: String
        /// For a hint: what to do about a table that drops the plan, for the CLI to word.
        public let advice: BlockingAdvice?

        public init(name: String, level: Level, detail: String, advice: BlockingAdvice? = nil) {
            self.name = name
            self.level = level
            self.detail = detail
            self.advice = advice
        }
    }

    /// What doctor examines: a plan given on the command line, or else the applied generation.
    public struct Subject: Sendable {
        /// A plan to check before it is applied (standalone); nil checks the applied generation.
        public var plan: Plan?
        /// The SSH ports the host shows, and where each was found (sshd_config:12, a socket, ...).
        public var sshSources: [(port: PortNumber, origin: String)]

        public init(plan: Plan?, sshSources: [(port: PortNumber, origin: String)]) {
            self.plan = plan
            self.sshSources = sshSources
        }
    }

    public static func run(_ subject: Subject, store: StateStore, backend: any NftablesBackend) -> [Check] {
        var checks: [Check] = []
        var live: LiveRuleset?
        do throws(NftablesError) {
            let ruleset = try backend.liveRuleset()
            live = ruleset
            checks.append(Check(name: "nftables", level: .ok, detail: "libnftables answers; \(ruleset.tables.count) tables"))
        } catch {
            let detail = error.kind == .permission ? "permission denied: run as root" : error.message
            checks.append(Check(name: "nftables", level: .fail, detail: detail))
        }
        let current = store.current()
        checks.append(Check(name: "state", level: .ok, detail: "\(store.directory): generation \(current) is live"))
        if let pending = store.pending() {
            checks.append(Check(name: "pending", level: .warn, detail: "generation \(pending.generation) awaits 'portctl confirm'"))
        }

        var entries: [PlanEntry] = []
        var planSSH: [PortNumber] = []
        var placement: Placement?
        if let plan = subject.plan {
            entries = plan.inboundEntries
            planSSH = plan.sshPorts
            placement = .standalone(table: RulesetBuilder.defaultTable)
        } else if current > 0, let meta = store.meta(current) {
            placement = Placement(stateText: meta.placement)
            let plan = store.planJSON(current).flatMap { try? JSONValue.parse($0) }
            entries = plan.map(PlanJSON.entries)?.filter { $0.direction.needsInboundRule } ?? []
            planSSH = (plan?["ssh_guard"]?.array ?? []).compactMap { $0.int.flatMap { try? PortNumber($0) } }
            if let report = try? StatusReport.build(store: store, backend: backend), let drift = report.drift {
                checks.append(
                    drift.isEmpty
                        ? Check(name: "drift", level: .ok, detail: "the live rules match generation \(current)")
                        : Check(
                            name: "drift", level: .fail,
                            detail:
                                "\(drift.added.count) objects added and \(drift.missing.count) missing since generation \(current); 'portctl apply' restores them"
                        ))
            }
        } else {
            checks.append(Check(name: "plan", level: .warn, detail: "nothing applied and no profiles given; try 'portctl doctor dss'"))
        }

        if case .standalone = placement {
            let uncovered = subject.sshSources.filter { !planSSH.contains($0.port) }
            checks.append(
                uncovered.isEmpty
                    ? Check(name: "ssh guard", level: .ok, detail: "covers \(planSSH.map { "\($0)/tcp" }.joined(separator: ", "))")
                    : Check(
                        name: "ssh guard", level: .warn,
                        detail:
                            "not covered: \(uncovered.map { "\($0.port)/tcp (\($0.origin))" }.joined(separator: "; ")); 'portctl apply' adds detected ports"
                    ))
        }

        if let live, let placement, !entries.isEmpty {
            checks += otherTables(live, entries: entries, placement: placement)
        }
        return checks
    }

    /// Whether another table's input chain drops a planned port, and what to do about it.
    static func otherTables(_ live: LiveRuleset, entries: [PlanEntry], placement: Placement) -> [Check] {
        var checks: [Check] = []
        let ownTable: (family: String, name: String)? = {
            if case .standalone(let t) = placement { return ("inet", t) } else { return nil }
        }()
        let ownChain: (family: String, table: String, chain: String)? = {
            if case .attach(let f, let t, _) = placement { return (f, t, Placement.attachedChain) } else { return nil }
        }()
        let reports = BlockingAnalyzer.analyze(live, entries: entries, ownTable: ownTable, ownChain: ownChain)
        for report in reports where !report.verdict.isOpen {
            let family = report.family.map { " (\($0.rawValue))" } ?? ""
            checks.append(
                Check(
                    name: "other tables", level: report.verdict.isBlocked ? .fail : .warn,
                    detail: "\(report.entry.spec)\(family) \(report.entry.labels.joined(separator: ", ")): \(report.verdict)"))
        }
        if reports.allSatisfy(\.verdict.isOpen) {
            checks.append(Check(name: "other tables", level: .ok, detail: "no other table drops the planned ports"))
        }
        for advice in BlockingAnalyzer.advice(for: reports) { checks.append(Check(name: "hint", level: .warn, detail: "", advice: advice)) }
        return checks
    }
}
