import ArgumentParser
import Foundation
import PortModel
import PortProfiles
import PortPlanning
import PlanRendering
import FirewallState
import NftablesKernel
import HostInspection
import PortProbe
import StreamWire
import KnockAuth
import CommandSupport

/// `portctl doctor`: checks the host for what would stop a plan from working.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check nftables, state, drift, the SSH guard, and other tables that drop planned ports.",
        discussion: """
            Without profiles it checks the applied generation; with profiles it checks that plan \
            before you apply it, including whether another table's input chain (firewalld, Docker, \
            iptables-nft) would drop its ports anyway, and what to do about it.
            Exits 0 when nothing fails, 1 otherwise.

            EXAMPLES:
              portctl doctor
              portctl doctor dss --port80
            """)

    @Argument(help: ArgumentHelp("Profiles to check instead of the applied plan.", valueName: "profile"))
    var profiles: [String] = []
    @Flag(name: .customLong("port80"), help: "With profiles: turn on their port-80 option.") var port80 = false
    @Option(name: .customLong("with"), help: ArgumentHelp("With profiles: turn on a profile option (repeatable).", valueName: "option"))
    var options: [String] = []
    @OptionGroup var profileSource: ProfileSourceOptions
    @OptionGroup var state: StateDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    struct Check {
        enum Level: String { case ok, warn, fail }
        let name: String
        let level: Level
        let detail: String
    }

    func run() throws {
        try Console.guarded {
            var checks: [Check] = []
            let backend = LibNftablesBackend()
            let store = state.store
            var live: LiveRuleset?
            do throws(NftablesError) {
                live = try backend.liveRuleset()
                checks.append(Check(name: "nftables", level: .ok, detail: "libnftables answers; \(live!.tables.count) tables"))
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
            if !profiles.isEmpty {
                var plan = try PlanOptions.parse(profiles + (port80 ? ["--port80"] : []) + options.flatMap { ["--with", $0] } + profileSource.profileDirs.flatMap { ["--profile-dir", $0] })
                plan.profileSource.strict = profileSource.strict
                let result = Planner.plan(try plan.request())
                entries = result.inboundEntries
                planSSH = result.sshPorts
                placement = .standalone(table: RulesetBuilder.defaultTable)
            } else if current > 0, let meta = store.meta(current) {
                placement = Placement(stateText: meta.placement)
                let plan = store.planJSON(current).flatMap { try? JSONValue.parse($0) }
                entries = plan.map(PlanJSON.entries)?.filter { $0.direction.needsInboundRule } ?? []
                planSSH = (plan?["ssh_guard"]?.array ?? []).compactMap { $0.int.flatMap { try? PortNumber($0) } }
                if let report = try? StatusReport.build(store: store, backend: backend), let drift = report.drift {
                    checks.append(drift.isEmpty
                        ? Check(name: "drift", level: .ok, detail: "the live rules match generation \(current)")
                        : Check(name: "drift", level: .fail, detail: "\(drift.added.count) objects added and \(drift.missing.count) missing since generation \(current); 'portctl apply' restores them"))
                }
            } else {
                checks.append(Check(name: "plan", level: .warn, detail: "nothing applied and no profiles given; try 'portctl doctor dss'"))
            }

            if case .standalone = placement {
                let ssh = SSHFacts.detect(environment: ProcessInfo.processInfo.environment)
                let uncovered = ssh.sources.filter { !planSSH.contains($0.port) }
                checks.append(uncovered.isEmpty
                    ? Check(name: "ssh guard", level: .ok, detail: "covers \(planSSH.map { "\($0)/tcp" }.joined(separator: ", "))")
                    : Check(name: "ssh guard", level: .warn, detail: "not covered: \(uncovered.map(\.description).joined(separator: "; ")); 'portctl apply' adds detected ports"))
            }

            if let live, let placement, !entries.isEmpty {
                let ownTable: (family: String, name: String)? = { if case .standalone(let t) = placement { return ("inet", t) } else { return nil } }()
                let ownChain: (family: String, table: String, chain: String)? = {
                    if case .attach(let f, let t, _) = placement { return (f, t, Placement.attachedChain) } else { return nil }
                }()
                let reports = BlockingAnalyzer.analyze(live, entries: entries, ownTable: ownTable, ownChain: ownChain)
                for report in reports where !report.verdict.isOpen {
                    let family = report.family.map { " (\($0.rawValue))" } ?? ""
                    checks.append(Check(
                        name: "other tables", level: report.verdict.isBlocked ? .fail : .warn,
                        detail: "\(report.entry.spec)\(family) \(report.entry.labels.joined(separator: ", ")): \(report.verdict)"))
                }
                if reports.allSatisfy(\.verdict.isOpen) {
                    checks.append(Check(name: "other tables", level: .ok, detail: "no other table drops the planned ports"))
                }
                for advice in BlockingAnalyzer.advice(for: reports) { checks.append(Check(name: "hint", level: .warn, detail: advice.text)) }
            }

            if json {
                Console.out(JSONValue.array(checks.map {
                    .object([("check", .string($0.name)), ("level", .string($0.level.rawValue)), ("detail", .string($0.detail))])
                }).pretty)
            } else {
                Console.out(checks.map { "\($0.level.rawValue.padding(toLength: 5, withPad: " ", startingAt: 0)) \($0.name): \($0.detail)" }.joined(separator: "\n") + "\n")
            }
            if checks.contains(where: { $0.level == .fail }) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }
}
