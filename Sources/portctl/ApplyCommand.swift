import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import Glibc
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl apply`: one atomic, checked nftables transaction, with an optional confirm-or-rollback timer.
struct ApplyCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a plan to nftables in one checked, atomic transaction.",
        discussion: """
            Builds the same plan as 'portctl plan', shows what changes against the last generation \
            portctl applied, and applies it as one transaction that replaces only portctl's own \
            objects. If the kernel rejects it, nothing changes (--dry-run has the kernel check it \
            without applying it). Applying the same plan again writes nothing and says "no change".

            Standalone (default): table inet portctl with an input chain at policy drop, a baseline \
            and the SSH guard (sshd's ports from its configuration and sockets, and this session's). \
            Attach: a chain 'portctl' in a table you already have, and one jump from your input chain.

            With --confirm SECONDS, the change rolls back by itself unless confirmed in time, with \
            'portctl confirm' from any shell or 'y' at the prompt. The rollback runs in a separate \
            process, so it happens even if this terminal dies.

            EXAMPLES:
              portctl apply dss --admin-from 192.0.2.0/24 --dry-run
              portctl apply dss --port80 --confirm 60
              portctl apply dss --attach 'inet filter input'
              portctl apply dss rtmp --persist
            """
    )

    @OptionGroup var plan: PlanOptions
    @OptionGroup var state: StateOptions

    @Option(
        help: ArgumentHelp(
            "Attach to an existing input chain instead of portctl's own table, e.g. 'inet filter input'.", valueName: "family table chain"))
    var attach: String?

    @Flag(name: .customLong("dry-run"), help: "Check the change with the kernel and show it, but do not apply it.")
    var dryRun = false

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Roll back unless confirmed within this many seconds (1-3600).", valueName: "seconds"))
    var confirm: String?

    @Flag(help: "Also restore this generation at boot (see contrib/portctl-restore.service).")
    var persist = false

    @Flag(
        name: .customLong("no-check"),
        help: ArgumentHelp(
            "Accepted and ignored: a real apply no longer runs a separate dry run (the commit is one transaction, and a refused batch changes nothing).",
            visibility: .hidden))
    var noCheck = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only the outcome line.")
    var quiet = false

    var confirmSeconds: Int? {
        get throws(CommandFailure) {
            guard let confirm else { return nil }
            guard let value = Int(confirm), (1...3600).contains(value) else {
                throw CommandFailure.flag("--confirm", "'\(Shown.value(confirm))' is not a number of seconds from 1 to 3600")
            }
            return value
        }
    }

    func run(in context: CommandContext) throws {
        try state.check()
        let confirmSeconds = try self.confirmSeconds
        if dryRun, confirm != nil { throw CommandFailure(.usage, "--confirm cannot be combined with --dry-run") }
        let placement: Placement =
            try attach.map { text throws(CommandFailure) in try Placement(attach: text) } ?? .standalone(table: RulesetBuilder.defaultTable)
        let environment = context.environment
        let ssh = plan.noSSHGuard ? SSHFacts(sources: [], session: nil) : SSHFacts.detect(environment: environment)
        let request = try plan.request(detectedSSH: ssh.ports, in: context)
        let result = Planner.plan(request)
        let forced = try plan.flags.checkPort80(result)
        if let forced { context.warning(forced) }
        if !quiet { for warning in result.warnings { context.warning(warning.message) } }

        let lock = try state.lock(in: context)
        defer { lock.release() }
        state.faults.point("apply.locked")
        if let pending = state.store.pending() {
            throw CommandFailure(
                .busy, "busy: generation \(pending.generation) awaits confirmation; run 'portctl confirm' or 'portctl rollback' first")
        }
        let session = SSHFacts.parseSession(environment["SSH_CONNECTION"] ?? "")
        var options = ApplyOptions(
            placement: placement, dryRun: dryRun, persist: persist, forced: forced != nil, command: context.arguments, session: session)

        // --confirm: the rollback timer starts first and waits for the pending record, which the
        // applier writes (fsynced, with the journal) before the commit. Its lifeline tells it when
        // this process is gone, so a change that never reached the kernel leaves no timer behind.
        if let confirmSeconds {
            let token = UUID().uuidString
            let deadline = Date().timeIntervalSince1970 + Double(confirmSeconds)
            do {
                // The lifeline's write end stays open, unused, for as long as this process lives.
                let (pid, _) = try Detached.spawnWithLifeline(
                    context.selfExecutable, state.watchdogArguments(token: token, deadline: deadline))
                options.confirmation = Confirmation(token: token, deadline: deadline, watchdog: pid)
            } catch {
                throw CommandFailure(.cannotCreate, "cannot start the rollback timer (\(error)), so nothing was changed")
            }
            state.faults.point("apply.watchdog-spawned")
        }
        let outcome: ApplyOutcome
        do throws(ApplyFailure) {
            outcome = try state.applier(actor: "portctl apply", in: context).apply(result, options: options)
        } catch {
            // Nothing was committed (or the commit was undone): the timer has nothing to do.
            // Stranded, the change is live and unrecorded: the timer stays, to roll it back.
            if case .stranded = error {} else if let confirmation = options.confirmation { kill(confirmation.watchdog, SIGTERM) }
            throw error.commandFailure
        }
        if case .applied = outcome {
        } else if let confirmation = options.confirmation {
            // Nothing was committed, so nothing needs a timer.
            kill(confirmation.watchdog, SIGTERM)
        }
        switch outcome {
        case .dryRun(let diff, let changes):
            report(
                diff: diff,
                line: changes
                    ? "dry run: the kernel accepts this change; nothing was applied"
                    : "dry run: no change: the live generation matches the plan; nothing was applied",
                generation: nil, event: "dry-run", changed: changes, in: context)
        case .noChange(let generation):
            report(
                diff: [], line: "no change: generation \(generation) is live and matches the plan", generation: generation,
                event: "no-change", in: context)
        case .applied(let generation, _, let diff):
            guard let confirmation = options.confirmation, let confirmSeconds else {
                report(
                    diff: diff, line: "applied generation \(generation) (\(placement))", generation: generation, event: "applied",
                    in: context)
                return
            }
            lock.release()
            state.faults.point("apply.unlocked")
            report(
                diff: diff, line: "applied generation \(generation) (\(placement)); it rolls back in \(confirmSeconds)s unless confirmed",
                generation: generation, event: "pending", in: context)
            try ConfirmWait(state: state, confirmation: confirmation, generation: generation, context: context).run()
        }
    }

    func report(diff: [String], line: String, generation: Int?, event: String, changed: Bool? = nil, in context: CommandContext) {
        if json {
            context.out(
                JSONValue.object([
                    ("outcome", .string(event)), ("generation", generation.map { .int($0) } ?? .null),
                    // What configuration management asks: did (or, with --dry-run, would) the ruleset change?
                    ("changed", .bool(changed ?? (event == "applied" || event == "pending"))),
                    ("diff", .array(diff.map { .string($0) })), ("message", .string(line)),
                ]).pretty)
            return
        }
        if !quiet, !diff.isEmpty { context.out(diff.joined(separator: "\n") + "\n") }
        context.out(line + "\n")
    }
}
