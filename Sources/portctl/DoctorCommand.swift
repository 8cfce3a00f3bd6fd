import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl doctor`: checks the host for what would stop a plan from working.
struct DoctorCommand: ContextualCommand {
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
    @OptionGroup var flags: PlanFlags
    @OptionGroup var state: StateDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run(in context: CommandContext) throws {
        try state.check()
        let plan = profiles.isEmpty && flags.configs.isEmpty ? nil : Planner.plan(try flags.request(profiles: profiles, in: context))
        let ssh = SSHFacts.detect(environment: context.environment)
        let subject = Doctor.Subject(plan: plan, sshSources: ssh.sources.map { ($0.port, $0.origin) })
        var checks = Doctor.run(subject, store: state.store, backend: context.backend())
        if plan == nil, let drift = ConfigDrift.check(store: state.store, catalog: try flags.profileSource.catalog(in: context)) {
            // The applied generation followed server configurations: do they still say the same?
            if drift.findings.isEmpty {
                checks.append(
                    Doctor.Check(
                        name: "config", level: .ok,
                        detail: "\(drift.configs.joined(separator: ", ")) still say what the live generation opens"))
            } else {
                for finding in drift.findings { checks.append(Doctor.Check(name: "config", level: .fail, detail: finding)) }
                checks.append(Doctor.Check(name: "config", level: .fail, detail: "run \(drift.remedy!)"))
            }
        }
        if json {
            context.out(
                JSONValue.array(
                    checks.map {
                        .object([("check", .string($0.name)), ("level", .string($0.level.rawValue)), ("detail", .string(Self.detail($0)))])
                    }
                ).pretty)
        } else {
            context.out(
                checks.map {
                    "\($0.level.rawValue + String(repeating: " ", count: max(0, 5 - $0.level.rawValue.count))) \($0.name): \(Self.detail($0))"
                }
                .joined(separator: "\n") + "\n")
        }
        if checks.contains(where: { $0.level == .fail }) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }

    /// A check's detail; advice is data, worded here (AdviceText).
    static func detail(_ check: Doctor.Check) -> String { check.advice?.text ?? check.detail }
}
